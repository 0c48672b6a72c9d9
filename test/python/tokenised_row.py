"""Tokenises the first exported row the way the project's TRL script does, by building its trainer from its own
config, and prints which text carries loss and which does not.

    python tokenised_row.py TRAIN_SFT_PY SFT_CONFIG_JSON
"""
import importlib.util
import json
import sys


def main():
    script, config_path = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("train_sft", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(config_path, encoding="utf-8") as f:
        settings = json.load(f)
    trainer = module.build_trainer(settings)
    row = trainer.train_dataset[0]
    tokenizer = trainer.processing_class
    ids, labels = row["input_ids"], row["labels"]
    trained = [i for i, label in zip(ids, labels) if label != -100]
    masked = [i for i, label in zip(ids, labels) if label == -100]
    print(
        json.dumps(
            {
                "tokens": len(ids),
                "loss_tokens": len(trained),
                "loss_text": tokenizer.decode(trained),
                "masked_text": tokenizer.decode(masked),
                "first_loss_index": next(i for i, label in enumerate(labels) if label != -100),
            }
        )
    )


if __name__ == "__main__":
    main()

// The TRL script written beside sft_config.json (trainers.ts). Kept in its own module: it is Python, read and edited
// by users, and imported by the project's Python test to tokenise an exported row exactly as the trainer does.
// Keys other than model, train_file, validation_file and lora go to trl.SFTConfig unchanged.
export const TRL_SCRIPT = `"""Supervised fine-tuning on a Self-Verified Distillation export, with TRL's SFTTrainer.

Settings come from the JSON file given as --config. Keys other than model, train_file,
validation_file and lora are passed to trl.SFTConfig as they are.
"""
import argparse
import json

from datasets import load_dataset
from transformers import TrainerCallback
from trl import SFTConfig, SFTTrainer


class StepInLogs(TrainerCallback):
    """Puts the step into each printed log line: the progress bar goes to another stream and may lag behind."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs is not None:
            logs.setdefault("step", state.global_step)


def precision(settings):
    """bf16 where the hardware has it (the method's setting on GPUs); float32 on a machine without it."""
    import torch

    if settings.get("bf16") and not (torch.cuda.is_available() and torch.cuda.is_bf16_supported()):
        print("no bf16-capable GPU: training in float32 on the CPU", flush=True)
        settings["bf16"] = False
        if not torch.cuda.is_available():
            settings["use_cpu"] = True
    return "bfloat16" if settings.get("bf16") else "float32"


def dtype_key():
    """transformers 4.56 renamed torch_dtype to dtype."""
    import transformers
    from packaging.version import Version

    return "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"


def build_trainer(settings):
    """The trainer for these settings (a dict as read from sft_config.json); it tokenises the data as it trains."""
    settings = dict(settings)
    model = settings.pop("model")
    data_files = {"train": settings.pop("train_file")}
    validation_file = settings.pop("validation_file", None)
    if validation_file:
        data_files["validation"] = validation_file
    lora = settings.pop("lora", None)

    dataset = load_dataset("json", data_files=data_files)

    peft_config = None
    if lora:
        from peft import LoraConfig

        peft_config = LoraConfig(task_type="CAUSAL_LM", **lora)

    dtype = precision(settings)
    # Rows are prompt-completion conversations: the loss covers only the completion (the full sample, thinking
    # included), never the prompt.
    config = SFTConfig(model_init_kwargs={dtype_key(): dtype}, **settings)
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=dataset["train"],
        eval_dataset=dataset["validation"] if validation_file else None,
        peft_config=peft_config,
    )
    trainer.callback_handler.callbacks.insert(0, StepInLogs())
    return trainer


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, help="path to sft_config.json")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        settings = json.load(f)
    trainer = build_trainer(settings)
    trainer.train()
    trainer.save_model(trainer.args.output_dir)


if __name__ == "__main__":
    main()
`;

"""Loads each exported file with Hugging Face datasets, as a user (and TRL's script) would, and, for a LLaMA-Factory
YAML, reads it and its dataset_info.json by LLaMA-Factory's documented rules and loads the data as its loader does.
Prints one JSON object with what it found; the test asserts on it.

    python load_exports.py '{"files": {"openai": ["a.jsonl"], ...}, "llamafactory_yaml": "x.yaml"}'

LLaMA-Factory itself is not installed here (it is not in the package stores this project's machines reach), so its
rules are applied by hand, from its data/README.md and data/parser.py + data/converter.py: a dataset name in the
YAML's `dataset` is a key of `<dataset_dir>/dataset_info.json`; an entry without hub or script URL is a file,
`file_name` relative to dataset_dir, loaded with datasets' loader for its extension (jsonl -> "json") as split
"train"; given `columns`, every column it does not name is None; given `tags`, every tag it does not name is None;
a sharegpt row's first turn may be the system tag; the other turns alternate user (or observation) and assistant
(or function_call) tags, and an odd count is broken; the last turn is the response.
"""
import json
import os
import sys

from datasets import load_dataset

LF_FILE_TYPES = {"arrow": "arrow", "csv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet", "txt": "text"}
LF_TAGS = ("role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag")
LF_TAG_DEFAULTS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}


def load(path):
    dataset = load_dataset("json", data_files={"train": path}, split="train")
    return {"rows": dataset.num_rows, "columns": sorted(dataset.column_names), "first": dataset[0] if dataset.num_rows else None}


def sharegpt_row(example, attr):
    """LLaMA-Factory's sharegpt conversion of one row: (system, prompt, response, broken)."""
    messages = example[attr["messages"]]
    if attr["system_tag"] and messages and messages[0][attr["role_tag"]] == attr["system_tag"]:
        system, messages = messages[0][attr["content_tag"]], messages[1:]
    else:
        system = example[attr["system"]] if attr.get("system") else ""
    accept = ((attr["user_tag"], attr["observation_tag"]), (attr["assistant_tag"], attr["function_tag"]))
    aligned = []
    for index, message in enumerate(messages):
        if message[attr["role_tag"]] not in accept[index % 2]:
            return system, [], [], "invalid role tag"
        aligned.append(message[attr["content_tag"]])
    if len(aligned) % 2 != 0:
        return system, [], [], "invalid message count"
    return system, aligned[:-1], aligned[-1:], None


def llamafactory(yaml_path):
    import yaml

    with open(yaml_path, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    out = {"config": config, "datasets": {}}
    with open(os.path.join(config["dataset_dir"], "dataset_info.json"), encoding="utf-8") as f:
        info = json.load(f)
    names = [n.strip() for key in ("dataset", "eval_dataset") if key in config for n in str(config[key]).split(",")]
    for name in names:
        entry = info[name]
        if any(key in entry for key in ("hf_hub_url", "ms_hub_url", "script_url")):
            raise ValueError(f"{name}: not a local file entry")
        attr = {"messages": "conversations", "system": None, **LF_TAG_DEFAULTS}
        if "columns" in entry:
            for column in ("system", "tools", "images", "chosen", "rejected", "kto_tag", "messages"):
                attr[column] = entry["columns"].get(column)
        if entry.get("formatting", "alpaca") == "sharegpt" and "tags" in entry:
            for tag in LF_TAGS:
                attr[tag] = entry["tags"].get(tag)
        local = os.path.join(config["dataset_dir"], entry["file_name"])
        kind = LF_FILE_TYPES[os.path.splitext(local)[1][1:]]
        dataset = load_dataset(kind, data_files=[local], split=entry.get("split", "train"))
        rows = [sharegpt_row(example, attr) for example in dataset]
        out["datasets"][name] = {
            "formatting": entry.get("formatting", "alpaca"),
            "file": local,
            "rows": dataset.num_rows,
            "broken": [why for *_, why in rows if why],
            "first": {"system": rows[0][0], "prompt": rows[0][1], "response": rows[0][2]} if rows else None,
        }
    return out


def main():
    request = json.loads(sys.argv[1])
    result = {"files": {}}
    for fmt, paths in request.get("files", {}).items():
        result["files"][fmt] = [load(path) for path in paths]
    if request.get("llamafactory_yaml"):
        result["llamafactory"] = llamafactory(request["llamafactory_yaml"])
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()

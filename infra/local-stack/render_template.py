"""Renders template.yaml for a local deploy, changing nothing but where the code comes from.

- Every AWS::Serverless::Function whose binary was built (target/lambda/<bin>/bootstrap.zip)
  gets that zip as its CodeUri, so `aws cloudformation package` uploads our own build instead
  of asking for `sam build`.
- A function whose binary does not exist (its crate has not been written yet) is left out,
  together with everything that refers to it (routes, permissions, schedule, outputs), so the
  rest of the stack still deploys; the function joins on the next run once its crate builds.
- The minimum of `QueueVisibilityTimeout` (6 x the consumers' timeout, as AWS advises) is
  dropped: the local stack deploys a visibility of seconds, so the end-to-end suite sees
  retries and dead letters without waiting minutes (local-stack/env.sh). Nothing else about
  the parameters changes.
- Alarms on metric math (`Properties.Metrics`) are left out: the emulator's CloudFormation
  refuses them ("metric math is not supported") and fails the whole stack. cfn-lint checks
  them; docs/deploy.md lists the gap.

Usage: render_template.py TEMPLATE LAMBDA_DIR OUTPUT_JSON
Prints the names of the functions left out, one per line, on stderr.
"""

import json
import re
import sys

import yaml


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...) as their long form."""


def _construct(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _construct)

SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}")


def references(node):
    """Logical ids a piece of template refers to."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else value
                found |= {m for m in SUB_REFERENCE.findall(text) if m not in variables}
                found |= references(variables)
            elif key == "DependsOn":
                found |= {value} if isinstance(value, str) else set(value)
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def render(template, lambda_dir):
    visibility = template.get("Parameters", {}).get("QueueVisibilityTimeout")
    if visibility is not None:
        visibility.pop("MinValue", None)
    resources = template["Resources"]
    missing = []
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        zip_path = f"{lambda_dir}/{binary}/bootstrap.zip"
        try:
            open(zip_path, "rb").close()
            resource["Properties"]["CodeUri"] = zip_path
        except FileNotFoundError:
            missing.append((logical, binary))

    removed = {logical for logical, _ in missing}
    removed |= {
        logical
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in resource.get("Properties", {})
    }
    changed = True
    while changed:
        changed = False
        for logical in list(resources):
            if logical not in removed and references(resources[logical]) & removed:
                removed.add(logical)
                changed = True
    for logical in removed:
        del resources[logical]
    outputs = template.get("Outputs", {})
    for name in [n for n, o in outputs.items() if references(o) & removed]:
        del outputs[name]
    return template, [binary for _, binary in missing]


def main():
    source, lambda_dir, output = sys.argv[1:4]
    with open(source) as f:
        template = yaml.load(f, Loader=CfnLoader)
    template, missing = render(template, lambda_dir)
    with open(output, "w") as f:
        json.dump(template, f, indent=1)
    for binary in missing:
        print(binary, file=sys.stderr)


if __name__ == "__main__":
    main()

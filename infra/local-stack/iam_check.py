"""Checks every AWS call the deployed functions made, and the calls AWS makes for them, against
the roles in template.yaml, and reports what the roles grant that nothing used.

The emulator evaluates a function's own calls against its role (AUTH=true), but not the calls
AWS makes on the functions' behalf, and it reads the policies as its CloudFormation resolved
them, which differs from AWS in places (`!Ref` of a secret is its name here, its ARN there).
So this check reads the roles from template.yaml itself: SAM's translator expands the policy
templates (DynamoDBCrudPolicy, SQSSendMessagePolicy, ...) and adds the managed policies SAM
attaches, intrinsic functions are resolved the way AWS resolves them against the deployed
stack's physical ids, and each call is evaluated against the role's statements here.

Calls checked:
- recorded: every call a function made during the suites, as the emulator wrote it down
  (infra/local-aws/ministack_recording.py: principal, action, resource, decision);
- implied, which AWS checks and the emulator does not:
  - Lambda writes each function's logs as its role: logs:CreateLogGroup, logs:CreateLogStream,
    logs:PutLogEvents on /aws/lambda/<function>; with active tracing xray:PutTraceSegments and
    xray:PutTelemetryRecords;
  - an SQS event source mapping polls as the function's role: sqs:ReceiveMessage,
    sqs:DeleteMessage, sqs:GetQueueAttributes on the queue;
  - a Scheduler schedule assumes its target's role (the role's trust policy must let
    scheduler.amazonaws.com assume it) and invokes the target as that role
    (lambda:InvokeFunction); every function role must let lambda.amazonaws.com assume it;
  - creating or updating a schedule hands its role to Scheduler: a recorded
    scheduler:CreateSchedule or scheduler:UpdateSchedule needs iam:PassRole on the role of the
    template's schedule of that name.

A statement with a condition counts only where the condition can be evaluated from what is
known about the call (the implied calls carry aws:SourceAccount, aws:SourceArn,
iam:PassedToService); otherwise the check says so and does not count it as allowing.

Usage:
  iam_check.py --template T --calls CALLS.jsonl --report REPORT
               (--endpoint URL --stack NAME [--save-state STATE.json] | --state STATE.json)
Exit status 1 when a call is not allowed (one line per call on stderr, naming the function,
action and resource); the over-grant report never fails the check.
"""

import argparse
import copy
import json
import logging
import os
import re
import sys
from collections import defaultdict

import yaml

from render_template import CfnLoader

LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
SQS_POLLER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
SCHEDULE_WRITES = ("scheduler:CreateSchedule", "scheduler:UpdateSchedule")
# SQS authorizes its batch operations as the single-message action; IAM has no action of the
# batch's name. The emulator names the operation, so its records are read as AWS decides them.
AWS_ACTION_OF = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
# The AWS managed policies SAM attaches to function roles (basic execution, X-Ray, SQS
# polling), as AWS publishes them. The emulator knows only some of them (not
# AWSXrayWriteOnlyAccess), so these come first and the emulator's copy fills in the others.
MANAGED_POLICIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws-managed-policies.json")


class Unresolved(Exception):
    """An intrinsic function this check cannot resolve against the deployed stack."""


# ------------------------------------------------------------------ the deployed stack


def gather_state(endpoint, stack_name):
    """What resolution needs from the deployed stack: physical ids, parameters, the ARNs that
    cannot be derived from a physical id (secrets), and the managed policies the roles attach."""
    import boto3

    def client(service):
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    cfn = client("cloudformation")
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    _, _, _, region, account, _ = stack["StackId"].split(":", 5)
    region = region or "us-east-1"
    resources = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for r in page["StackResourceSummaries"]:
            resources[r["LogicalResourceId"]] = {"type": r["ResourceType"],
                                                 "physical": r.get("PhysicalResourceId", "")}
    attributes = {}
    secrets = client("secretsmanager")
    iam = client("iam")
    with open(MANAGED_POLICIES, encoding="utf-8") as f:
        managed = json.load(f)
    for logical, r in resources.items():
        if r["type"] == "AWS::SecretsManager::Secret":
            arn = secrets.describe_secret(SecretId=r["physical"])["ARN"]
            attributes[logical] = {"Id": arn, "Ref": arn}
        elif r["type"] == "AWS::IAM::Role":
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=r["physical"]):
                for attached in page["AttachedPolicies"]:
                    arn = attached["PolicyArn"]
                    if arn in managed:
                        continue
                    try:
                        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)[
                            "PolicyVersion"]["Document"]
                    except iam.exceptions.NoSuchEntityException:
                        continue  # reported by the check as a policy whose grants are unknown
                    managed[arn] = json.loads(document) if isinstance(document, str) else document
    return {
        "stack_name": stack_name,
        "region": region,
        "account": account,
        "partition": "aws",
        "url_suffix": "amazonaws.com",
        "parameters": {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
        "resources": resources,
        "attributes": attributes,
        "managed_policies": managed,
    }


# ------------------------------------------------------------------ template expansion


def expand(template, state):
    """The template as CloudFormation sees it after SAM's transform."""
    from samtranslator.translator.transform import transform

    # The translator warns about its own timing metrics, which nobody publishes here.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)

    class NoManagedPolicyNames:
        # The template names managed policies by ARN only; no IAM lookup of names.
        def load(self):
            return {}

    sam = copy.deepcopy(template)
    for resource in sam.get("Resources", {}).values():
        # The translator wants code in S3; where it is does not change a role.
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = "s3://code/bootstrap.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", state["region"])
    if "Transform" not in sam:
        return sam
    return transform(sam, dict(state["parameters"]), NoManagedPolicyNames())


class Resolver:
    """Resolves intrinsic functions the way CloudFormation on AWS does, with this stack's
    physical ids."""

    def __init__(self, template, state):
        self.template = template
        self.state = state
        self.defaults = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}

    def physical(self, logical):
        found = self.state["resources"].get(logical)
        if not found or not found.get("physical"):
            raise Unresolved(f"{logical} is not deployed")
        return found["physical"]

    def rtype(self, logical):
        return self.template.get("Resources", {}).get(logical, {}).get("Type", "")

    def arn(self, service, rest, region=True, account=True):
        s = self.state
        return f"arn:{s['partition']}:{service}:{s['region'] if region else ''}:{s['account'] if account else ''}:{rest}"

    def ref(self, name):
        pseudo = {
            "AWS::Region": self.state["region"], "AWS::AccountId": self.state["account"],
            "AWS::Partition": self.state["partition"], "AWS::StackName": self.state["stack_name"],
            "AWS::URLSuffix": self.state["url_suffix"],
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return str(self.state["parameters"].get(name, self.defaults.get(name, "")))
        given = self.state.get("attributes", {}).get(name, {})
        if "Ref" in given:
            return given["Ref"]
        if self.rtype(name) == "AWS::SecretsManager::Secret":
            # On AWS a secret's Ref is its ARN, which the physical id alone does not give.
            raise Unresolved(f"the ARN of secret {name}")
        return self.physical(name)

    def getatt(self, logical, attribute):
        given = self.state.get("attributes", {}).get(logical, {})
        if attribute in given:
            return given[attribute]
        kind = self.rtype(logical)
        physical = self.physical(logical)
        props = self.template["Resources"][logical].get("Properties", {})
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return self.arn("dynamodb", f"table/{physical}")
        if kind == "AWS::SQS::Queue":
            name = physical.rstrip("/").rsplit("/", 1)[-1]
            values = {"Arn": self.arn("sqs", name), "QueueName": name, "QueueUrl": physical}
            if attribute in values:
                return values[attribute]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            path = props.get("Path", "/")
            return self.arn("iam", f"role{path}{physical}", region=False)
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return self.arn("lambda", f"function:{physical}")
        if kind == "AWS::Scheduler::Schedule" and attribute == "Arn":
            group = self.resolve(props.get("GroupName", "default"))
            return self.arn("scheduler", f"schedule/{group}/{physical}")
        if kind == "AWS::SNS::Topic" and attribute == "TopicName":
            return physical.rsplit(":", 1)[-1]
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:{self.state['partition']}:s3:::{physical}"
        raise Unresolved(f"{logical}.{attribute}")

    def condition(self, name):
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def sub(self, text, variables):
        def replace(match):
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                return str(self.resolve(variables[inner]))
            if "." in inner and not inner.startswith("AWS::"):
                logical, attribute = inner.split(".", 1)
                return str(self.getatt(logical, attribute))
            return str(self.ref(inner))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, node):
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.getatt(logical, self.resolve(attribute))
            if key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else value
                return self.sub(text, variables)
            if key == "Fn::Join":
                return str(self.resolve(value[0])).join(str(v) for v in self.resolve(value[1]))
            if key == "Fn::Select":
                return self.resolve(value[1])[int(self.resolve(value[0]))]
            if key == "Fn::Split":
                return str(self.resolve(value[1])).split(value[0])
            if key == "Fn::If":
                return self.resolve(value[1] if self.condition(value[0]) else value[2])
            if key == "Fn::Equals":
                return str(self.resolve(value[0])) == str(self.resolve(value[1]))
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Fn::And":
                return all(self.resolve(v) for v in value)
            if key == "Fn::Or":
                return any(self.resolve(v) for v in value)
            if key == "Condition":
                return self.condition(value)
            if key.startswith("Fn::"):
                raise Unresolved(key)
        return {k: self.resolve(v) for k, v in node.items()}


# ------------------------------------------------------------------ policy evaluation


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def glob(pattern, value, ignore_case):
    """IAM wildcards: * any run of characters, ? one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


class Statement:
    def __init__(self, raw, source):
        self.effect = raw.get("Effect", "Allow")
        self.actions = as_list(raw.get("Action"))
        self.not_actions = as_list(raw.get("NotAction"))
        self.resources = as_list(raw.get("Resource"))
        self.not_resources = as_list(raw.get("NotResource"))
        self.principal = raw.get("Principal")
        self.condition = raw.get("Condition")
        self.source = source

    def matches_action(self, action):
        if self.not_actions:
            return not any(glob(p, action, True) for p in self.not_actions)
        return any(glob(p, action, True) for p in self.actions)

    def matches_resource(self, resource):
        if self.not_resources:
            return not any(glob(p, resource, False) for p in self.not_resources)
        return any(glob(p, resource, False) for p in self.resources)


STRING_OPERATORS = {
    "StringEquals": lambda actual, expected: actual == expected,
    "StringLike": lambda actual, expected: glob(expected, actual, False),
    "ArnEquals": lambda actual, expected: actual == expected,
    "ArnLike": lambda actual, expected: glob(expected, actual, False),
}


def condition_holds(condition, context):
    """True or False where every key is known for the call, None where it is not."""
    known = {k.lower(): v for k, v in context.items()}
    for operator, tests in condition.items():
        compare = STRING_OPERATORS.get(operator)
        if compare is None:
            return None
        for key, expected in tests.items():
            if key.lower() not in known:
                return None
            if not any(compare(known[key.lower()], str(e)) for e in as_list(expected)):
                return False
    return True


def evaluate(statements, action, resource, context=None):
    """AWS's order for one account: an explicit Deny wins, then an Allow, else implicit deny.
    Returns the decision and notes on statements that could not be evaluated."""
    allowed = denied = False
    notes = []
    for statement in statements:
        if not (statement.matches_action(action) and statement.matches_resource(resource)):
            continue
        if statement.condition:
            holds = condition_holds(statement.condition, context or {})
            if holds is None:
                notes.append(f"a {statement.effect} in {statement.source} depends on the condition "
                             f"{json.dumps(statement.condition, sort_keys=True)}, which this check "
                             "cannot evaluate (unsupported; not counted as allowing)")
                if statement.effect == "Deny":
                    denied = True
                continue
            if not holds:
                continue
        if statement.effect == "Deny":
            denied = True
        else:
            allowed = True
    if denied:
        return "Deny", notes
    return ("Allow" if allowed else "ImplicitDeny"), notes


def trust_allows(statements, service, context):
    """Whether a role's trust policy lets an AWS service assume it."""
    decision = "ImplicitDeny"
    notes = []
    for statement in statements:
        principal = statement.principal or {}
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if principal != "*" and service not in services:
            continue
        if not statement.matches_action("sts:AssumeRole"):
            continue
        holds = condition_holds(statement.condition, context) if statement.condition else True
        if holds is None:
            notes.append(f"the trust policy's condition {json.dumps(statement.condition, sort_keys=True)} "
                         "cannot be evaluated (unsupported)")
            continue
        if holds:
            if statement.effect == "Deny":
                return "Deny", notes
            decision = "Allow"
    return decision, notes


# ------------------------------------------------------------------ the check


class Role:
    def __init__(self, logical, physical, arn):
        self.logical = logical
        self.physical = physical
        self.arn = arn
        self.statements = []
        self.trust = []
        self.functions = []

    def who(self):
        if not self.functions:
            return f"role {self.logical}"
        return f"{', '.join(self.functions)} (role {self.logical})"


def load_roles(cfn, resolver, state, warnings):
    roles = {}
    resources = cfn.get("Resources", {})
    for logical, resource in resources.items():
        if resource.get("Type") != "AWS::IAM::Role" or logical not in state["resources"]:
            continue
        props = resource.get("Properties", {})
        try:
            role = Role(logical, resolver.physical(logical), resolver.getatt(logical, "Arn"))
        except Unresolved as missing:
            warnings.append(f"role {logical} left out: {missing}")
            continue
        role.trust = [Statement(s, f"{logical} trust policy")
                      for s in as_list(resolver.resolve(props.get("AssumeRolePolicyDocument", {})).get("Statement"))]
        for policy in props.get("Policies", []):
            role.statements += statements_of(resolver, policy.get("PolicyDocument", {}),
                                             f"{logical}/{policy.get('PolicyName', 'inline')}", warnings)
        for arn in resolver.resolve(props.get("ManagedPolicyArns", [])):
            document = state.get("managed_policies", {}).get(arn)
            if document is None:
                warnings.append(f"{logical}: managed policy {arn} is not known; its grants are not counted")
                continue
            role.statements += [Statement(s, arn) for s in as_list(document.get("Statement"))]
        if props.get("PermissionsBoundary"):
            warnings.append(f"{logical}: its permissions boundary is not evaluated (unsupported)")
        roles[logical] = role
    # Policies attached from outside the role.
    for logical, resource in resources.items():
        if resource.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        props = resource.get("Properties", {})
        for target in props.get("Roles", []):
            name = target.get("Ref") if isinstance(target, dict) else None
            if name in roles:
                roles[name].statements += statements_of(resolver, props.get("PolicyDocument", {}), logical, warnings)
    # Which function runs as which role.
    for logical, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function" or logical not in state["resources"]:
            continue
        try:
            role_arn = resolver.resolve(resource.get("Properties", {}).get("Role"))
        except Unresolved:
            continue
        for role in roles.values():
            if role.arn == role_arn:
                role.functions.append(logical)
    return roles


def statements_of(resolver, document, source, warnings):
    statements = []
    for raw in as_list(document.get("Statement")):
        resolved = dict(raw)
        for key in ("Resource", "NotResource"):
            if key in raw:
                values = []
                for value in as_list(raw[key]):
                    try:
                        values.append(resolver.resolve(value))
                    except Unresolved as missing:
                        warnings.append(f"{source}: a resource left unresolved ({missing}); it matches nothing")
                        values.append(f"<unresolved {missing}>")
                resolved[key] = values
        try:
            if "Condition" in raw:
                resolved["Condition"] = resolver.resolve(raw["Condition"])
        except Unresolved as missing:
            warnings.append(f"{source}: a condition left unresolved ({missing})")
        statements.append(Statement(resolved, source))
    return statements


def function_role(roles, function_logical):
    return next((r for r in roles.values() if function_logical in r.functions), None)


def implied_calls(cfn, resolver, roles, recorded, warnings):
    """(role, action, resource, context, why) that AWS checks and the emulator does not."""
    calls = []
    resources = cfn.get("Resources", {})
    for logical, resource in resources.items():
        kind = resource.get("Type")
        props = resource.get("Properties", {})
        if kind == "AWS::Lambda::Function":
            role = function_role(roles, logical)
            if role is None:
                continue
            try:
                name = resolver.physical(logical)
            except Unresolved:
                continue
            group = f"/aws/lambda/{name}"
            calls.append((role, "logs:CreateLogGroup", resolver.arn("logs", f"log-group:{group}:*"), {},
                          "Lambda creates the function's log group"))
            for action in LOG_ACTIONS[1:]:
                calls.append((role, action, resolver.arn("logs", f"log-group:{group}:log-stream:*"), {},
                              "Lambda writes the function's logs"))
            if (props.get("TracingConfig") or {}).get("Mode") == "Active":
                for action in XRAY_ACTIONS:
                    calls.append((role, action, "*", {}, "active tracing sends X-Ray segments"))
        elif kind == "AWS::Lambda::EventSourceMapping":
            try:
                source = resolver.resolve(props.get("EventSourceArn"))
                function_name = resolver.resolve(props.get("FunctionName"))
            except Unresolved as missing:
                warnings.append(f"event source mapping {logical} left out: {missing}")
                continue
            function = next((f for f in resources if resources[f].get("Type") == "AWS::Lambda::Function"
                             and resolver.state["resources"].get(f, {}).get("physical") == function_name), None)
            role = function_role(roles, function) if function else None
            if role is None:
                continue
            if ":sqs:" in source:
                for action in SQS_POLLER_ACTIONS:
                    calls.append((role, action, source, {}, f"the SQS event source mapping {logical} polls as the function's role"))
            else:
                warnings.append(f"event source mapping {logical}: {source} is not a queue; its poller is not checked")
        elif kind == "AWS::Scheduler::Schedule":
            try:
                target = resolver.resolve(props.get("Target", {}))
                schedule_arn = resolver.getatt(logical, "Arn")
            except Unresolved as missing:
                warnings.append(f"schedule {logical} left out: {missing}")
                continue
            role = next((r for r in roles.values() if r.arn == target.get("RoleArn")), None)
            if role is None:
                warnings.append(f"schedule {logical}: its role {target.get('RoleArn')} is not in the template")
                continue
            context = {"aws:SourceAccount": resolver.state["account"], "aws:SourceArn": schedule_arn}
            calls.append((role, "sts:AssumeRole@scheduler.amazonaws.com", role.arn, context,
                          f"Scheduler assumes the role of schedule {logical}"))
            if ":lambda:" in target.get("Arn", ""):
                calls.append((role, "lambda:InvokeFunction", target["Arn"], context,
                              f"Scheduler invokes the target of schedule {logical} as this role"))
    for role in roles.values():
        if role.functions:
            calls.append((role, "sts:AssumeRole@lambda.amazonaws.com", role.arn, {},
                          "Lambda assumes the function's role"))
    # Handing a role to Scheduler.
    schedules = {}
    for logical, resource in resources.items():
        if resource.get("Type") == "AWS::Scheduler::Schedule":
            try:
                schedules[resolver.getatt(logical, "Arn")] = resolver.resolve(
                    resource.get("Properties", {}).get("Target", {})).get("RoleArn")
            except Unresolved:
                pass
    for role, action, resource in sorted({(c["role"], c["action"], c["resource"]) for c in recorded
                                          if c["action"] in SCHEDULE_WRITES}, key=str):
        passed = schedules.get(resource)
        if passed is None:
            warnings.append(f"{action} on {resource}: no schedule of that name in the template, so the "
                            "role it passes is unknown and iam:PassRole is not checked")
            continue
        calls.append((roles[role], "iam:PassRole", passed, {"iam:PassedToService": "scheduler.amazonaws.com"},
                      f"{action} hands the schedule's role to Scheduler"))
    return calls


def read_calls(path, roles, warnings):
    by_physical = {r.physical: r.logical for r in roles.values()}
    calls = defaultdict(lambda: {"count": 0, "decisions": set()})
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            call = json.loads(line)
            if call.get("decision") == "AuthError":
                warnings.append(f"{path}:{number}: a call that failed authentication ({call['action']}) is left out")
                continue
            role = by_physical.get(call.get("role", ""))
            if role is None:
                warnings.append(f"{path}:{number}: {call.get('principal')} is no role of this stack; left out")
                continue
            action = AWS_ACTION_OF.get(call["action"], call["action"])
            entry = calls[(role, action, call["resource"])]
            entry["count"] += 1
            entry["decisions"].add(call.get("decision", "?"))
    return [{"role": k[0], "action": k[1], "resource": k[2], **v} for k, v in sorted(calls.items())]


def check(template, calls_path, state):
    """Returns (failures, warnings, report lines, summary)."""
    failures, warnings = [], []
    cfn = expand(template, state)
    resolver = Resolver(cfn, state)
    roles = load_roles(cfn, resolver, state, warnings)
    recorded = read_calls(calls_path, roles, warnings)

    used = defaultdict(list)  # role -> [(action, resource)]
    for call in recorded:
        role = roles[call["role"]]
        decision, notes = evaluate(role.statements, call["action"], call["resource"])
        used[role.logical].append((call["action"], call["resource"]))
        emulator = "/".join(sorted(call["decisions"]))
        if decision != "Allow":
            failures.append(f"{role.who()} may not {call['action']} on {call['resource']}: {decision} "
                            f"(recorded {call['count']}x, the emulator decided {emulator})"
                            + "".join(f"; {n}" for n in notes))
        elif emulator != "Allow":
            warnings.append(f"{role.who()} {call['action']} on {call['resource']}: the template allows it, "
                            f"the emulator decided {emulator} (it resolves the template differently)")

    implied = implied_calls(cfn, resolver, roles, recorded, warnings)
    for role, action, resource, context, why in implied:
        if action.startswith("sts:AssumeRole@"):
            service = action.split("@", 1)[1]
            decision, notes = trust_allows(role.trust, service, context)
            if decision != "Allow":
                failures.append(f"{role.who()}: its trust policy does not let {service} assume it "
                                f"({why})" + "".join(f"; {n}" for n in notes))
            continue
        decision, notes = evaluate(role.statements, action, resource, context)
        used[role.logical].append((action, resource))
        if decision != "Allow":
            failures.append(f"{role.who()} may not {action} on {resource}: {decision} (implied: {why})"
                            + "".join(f"; {n}" for n in notes))

    report = over_grants(roles, used)
    summary = (f"{sum(c['count'] for c in recorded)} recorded calls ({len(recorded)} distinct), "
               f"{len(implied)} implied, {len(roles)} roles")
    return failures, warnings, report, summary


def over_grants(roles, used):
    """Per role, each (action, resource) an Allow grants that no checked call used; and for
    wildcards that were used, what they were used for."""
    report = []
    for logical in sorted(roles):
        role = roles[logical]
        lines = []
        for statement in role.statements:
            if statement.effect != "Allow" or statement.not_actions or statement.not_resources:
                continue
            for action in statement.actions:
                for resource in statement.resources:
                    hits = sorted({(a, r) for a, r in used[logical]
                                   if glob(action, a, True) and glob(resource, r, False)})
                    if not hits:
                        lines.append(f"  unused: {action} on {resource}  [{statement.source}]")
                    elif "*" in action or "*" in resource:
                        seen = ", ".join(f"{a} on {r}" for a, r in hits)
                        lines.append(f"  wildcard: {action} on {resource} used only as: {seen}  [{statement.source}]")
        unused = sum(1 for line in lines if line.startswith("  unused"))
        report.append(f"{role.who()}: {unused} granted (action, resource) pairs unused")
        report += lines
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", required=True)
    parser.add_argument("--calls", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--state")
    parser.add_argument("--endpoint")
    parser.add_argument("--stack")
    parser.add_argument("--save-state")
    args = parser.parse_args(argv)
    if args.state:
        with open(args.state, encoding="utf-8") as f:
            state = json.load(f)
    elif args.endpoint and args.stack:
        state = gather_state(args.endpoint, args.stack)
        if args.save_state:
            with open(args.save_state, "w", encoding="utf-8") as f:
                json.dump(state, f, indent=1, sort_keys=True)
    else:
        parser.error("give --state, or --endpoint and --stack")
    with open(args.template, encoding="utf-8") as f:
        template = yaml.load(f, Loader=CfnLoader)

    failures, warnings, report, summary = check(template, args.calls, state)
    with open(args.report, "w", encoding="utf-8") as out:
        out.write(f"IAM check of {args.template}: {summary}\n")
        out.write("Failures:\n" + "".join(f"  {f}\n" for f in failures) if failures else "Failures: none\n")
        out.write("Warnings:\n" + "".join(f"  {w}\n" for w in warnings) if warnings else "Warnings: none\n")
        out.write("Grants no checked call used (over-grants), per role:\n")
        out.write("".join(f"{line}\n" for line in report))
    for warning in warnings:
        print(f"WARN IAM: {warning}", file=sys.stderr)
    for line in report:
        if not line.startswith("  "):
            print(f"IAM over-grants: {line}", file=sys.stderr)
    print(f"IAM over-grant report: {args.report}", file=sys.stderr)
    for failure in failures:
        print(f"FAIL IAM: {failure}", file=sys.stderr)
    verdict = f"{len(failures)} not allowed" if failures else "every call allowed"
    print(f"IAM check: {summary}; {verdict}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

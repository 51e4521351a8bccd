"""Points the local stack's notifications at the local chat receiver.

The template declares the chat delivery (ChatConnection, ChatDestination, NotifyChatRule) only
when ChatWebhookUrl is set, and the emulator's CloudFormation cannot create EventBridge
connections and API destinations, though its EventBridge API can. So this creates the same
three through the API, taking the rule's event pattern and input transformer from
template.yaml itself, so what the local stack delivers is what AWS would:

- connection `<stack>-chat` (API_KEY auth, the template's default header name),
- API destination `<stack>-chat` to the receiver's URL, POST,
- rule `<stack>-notify-chat` on the stack's bus, its target the destination.

Idempotent: existing ones are updated. Usage:
  chat_destination.py TEMPLATE STACK_NAME EVENT_BUS_NAME RECEIVER_URL
(AWS_ENDPOINT_URL and credentials from the environment, as boto3 reads them.)
"""

import json
import sys

import boto3
import yaml

from render_template import CfnLoader


def chat_rule(template):
    """The chat rule's event pattern and input transformer, and the connection's header name."""
    resources = template["Resources"]
    rule = resources["NotifyChatRule"]["Properties"]
    target = rule["Targets"][0]
    header = template["Parameters"]["ChatWebhookApiKeyName"]["Default"]
    return rule["EventPattern"], target["InputTransformer"], header


def ensure(events, stack, bus, url, pattern, transformer, header):
    name = f"{stack}-chat"
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": header, "ApiKeyValue": "local"}}
    try:
        connection = events.describe_connection(Name=name)["ConnectionArn"]
        events.update_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=auth)
    except events.exceptions.ResourceNotFoundException:
        connection = events.create_connection(
            Name=name, AuthorizationType="API_KEY", AuthParameters=auth
        )["ConnectionArn"]
    try:
        events.describe_api_destination(Name=name)
        destination = events.update_api_destination(
            Name=name, ConnectionArn=connection, InvocationEndpoint=url, HttpMethod="POST"
        )["ApiDestinationArn"]
    except events.exceptions.ResourceNotFoundException:
        destination = events.create_api_destination(
            Name=name, ConnectionArn=connection, InvocationEndpoint=url, HttpMethod="POST",
            InvocationRateLimitPerSecond=1,
        )["ApiDestinationArn"]
    rule = f"{stack}-notify-chat"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule=rule,
        EventBusName=bus,
        Targets=[{
            "Id": "chat",
            "Arn": destination,
            "RoleArn": f"arn:aws:iam::000000000000:role/{stack}-chat-destination",
            "InputTransformer": transformer,
        }],
    )
    return rule


def main():
    template_path, stack, bus, url = sys.argv[1:5]
    with open(template_path, encoding="utf-8") as f:
        template = yaml.load(f, Loader=CfnLoader)
    pattern, transformer, header = chat_rule(template)
    rule = ensure(boto3.client("events"), stack, bus, url, pattern, transformer, header)
    print(f"chat notifications: rule {rule} on bus {bus} posts to {url}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Tests of iam_check.py: run with `python -m unittest` in infra/local-stack (the template lint
script does). A small SAM template, a deployed-stack state and recorded calls, no emulator."""

import json
import os
import tempfile
import unittest

import yaml

from iam_check import MANAGED_POLICIES, check, evaluate, Statement
from render_template import CfnLoader

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Queue:
    Type: AWS::SQS::Queue
  Secret:
    Type: AWS::SecretsManager::Secret
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker
      Handler: bootstrap
      Runtime: provided.al2023
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Query]
              Resource: [!GetAtt Table.Arn]
            - Effect: Allow
              Action: [secretsmanager:GetSecretValue]
              Resource: [!Ref Secret]
            - Effect: Allow
              Action: [scheduler:UpdateSchedule]
              Resource: !Sub "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/default/${AWS::StackName}-tick"
            # PASS_ROLE
      Events:
        Work:
          Type: SQS
          Properties: { Queue: !GetAtt Queue.Arn }
  Ticker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/ticker
      Handler: bootstrap
      Runtime: provided.al2023
      Policies:
        - DynamoDBReadPolicy: { TableName: !Ref Table }
  TickRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: { Service: scheduler.amazonaws.com }
            Action: sts:AssumeRole
            Condition: { StringEquals: { aws:SourceAccount: !Ref AWS::AccountId } }
      Policies:
        - PolicyName: invoke
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: lambda:InvokeFunction
                Resource: !GetAtt Ticker.Arn
  Tick:
    Type: AWS::Scheduler::Schedule
    Properties:
      Name: !Sub "${AWS::StackName}-tick"
      ScheduleExpression: rate(1 hour)
      FlexibleTimeWindow: { Mode: "OFF" }
      Target: { Arn: !GetAtt Ticker.Arn, RoleArn: !GetAtt TickRole.Arn }
"""

PASS_ROLE = """- Effect: Allow
              Action: [iam:PassRole]
              Resource: !GetAtt TickRole.Arn"""

ACCOUNT = "111122223333"
TABLE_ARN = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/stk-Table-1"
SECRET_ARN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:stk-Secret-1-AbCdEf"
SCHEDULE_ARN = f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule/default/stk-tick"


def state():
    with open(MANAGED_POLICIES, encoding="utf-8") as f:
        managed = json.load(f)
    physical = {
        "Table": ("AWS::DynamoDB::Table", "stk-Table-1"),
        "Queue": ("AWS::SQS::Queue", f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/stk-Queue-1"),
        "Secret": ("AWS::SecretsManager::Secret", SECRET_ARN),
        "Worker": ("AWS::Lambda::Function", "stk-Worker-1"),
        "WorkerRole": ("AWS::IAM::Role", "stk-WorkerRole-1"),
        "Ticker": ("AWS::Lambda::Function", "stk-Ticker-1"),
        "TickerRole": ("AWS::IAM::Role", "stk-TickerRole-1"),
        "TickRole": ("AWS::IAM::Role", "stk-TickRole-1"),
        "Tick": ("AWS::Scheduler::Schedule", "stk-tick"),
    }
    return {
        "stack_name": "stk", "region": "eu-west-1", "account": ACCOUNT, "partition": "aws",
        "url_suffix": "amazonaws.com", "parameters": {},
        "resources": {k: {"type": t, "physical": p} for k, (t, p) in physical.items()},
        "attributes": {"Secret": {"Id": SECRET_ARN, "Ref": SECRET_ARN}},
        "managed_policies": managed,
    }


def call(role, action, resource, decision="Allow"):
    return {"principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/session", "role": role,
            "service": action.split(":")[0], "action": action, "resource": resource, "decision": decision}


class IamCheckTest(unittest.TestCase):
    def run_check(self, calls, template=TEMPLATE, state_=None):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "calls.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(c) + "\n" for c in calls)
            return check(yaml.load(template, Loader=CfnLoader), path, state_ or state())

    def test_calls_the_role_allows_pass(self):
        failures, warnings, _, summary = self.run_check([
            call("stk-WorkerRole-1", "dynamodb:GetItem", TABLE_ARN),
            call("stk-WorkerRole-1", "secretsmanager:GetSecretValue", SECRET_ARN),
            # DynamoDBReadPolicy, expanded by SAM's translator, covers the table's indexes.
            call("stk-TickerRole-1", "dynamodb:Query", TABLE_ARN + "/index/by-day"),
        ])
        self.assertEqual(failures, [])
        self.assertEqual(warnings, [])
        self.assertIn("3 recorded calls (3 distinct)", summary)

    def test_a_call_outside_the_role_fails_naming_function_action_and_resource(self):
        failures, _, _, _ = self.run_check([call("stk-WorkerRole-1", "dynamodb:PutItem", TABLE_ARN)])
        self.assertEqual(len(failures), 1)
        self.assertIn("Worker (role WorkerRole) may not dynamodb:PutItem on " + TABLE_ARN, failures[0])
        self.assertIn("ImplicitDeny", failures[0])

    def test_a_batch_send_is_authorized_as_send_message(self):
        queue_arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:stk-Queue-1"
        template = TEMPLATE.replace("            # PASS_ROLE", """            - Effect: Allow
              Action: [sqs:SendMessage]
              Resource: [!GetAtt Queue.Arn]""")
        failures, _, _, _ = self.run_check([call("stk-WorkerRole-1", "sqs:SendMessageBatch", queue_arn)],
                                           template=template)
        self.assertEqual(failures, [])
        failures, _, _, _ = self.run_check([call("stk-WorkerRole-1", "sqs:SendMessageBatch", queue_arn)])
        self.assertEqual(len(failures), 1)
        self.assertIn("may not sqs:SendMessage on " + queue_arn, failures[0])

    def test_an_index_is_not_its_table(self):
        failures, _, _, _ = self.run_check([call("stk-WorkerRole-1", "dynamodb:Query", TABLE_ARN + "/index/by-day")])
        self.assertEqual(len(failures), 1)
        self.assertIn("dynamodb:Query on " + TABLE_ARN + "/index/by-day", failures[0])

    def test_an_unknown_principal_is_reported_not_checked(self):
        failures, warnings, _, _ = self.run_check([call("someone-else", "dynamodb:PutItem", TABLE_ARN)])
        self.assertEqual(failures, [])
        self.assertTrue(any("no role of this stack" in w for w in warnings))

    def test_updating_the_schedule_needs_pass_role_on_its_role(self):
        update = call("stk-WorkerRole-1", "scheduler:UpdateSchedule", SCHEDULE_ARN)
        failures, _, _, _ = self.run_check([update])
        self.assertEqual(len(failures), 1)
        self.assertIn(f"Worker (role WorkerRole) may not iam:PassRole on arn:aws:iam::{ACCOUNT}:role/stk-TickRole-1",
                      failures[0])
        failures, _, _, _ = self.run_check([update], template=TEMPLATE.replace("# PASS_ROLE", PASS_ROLE))
        self.assertEqual(failures, [])

    def test_the_queue_poller_needs_the_sqs_execution_policy(self):
        without = state()
        del without["managed_policies"]["arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"]
        failures, warnings, _, _ = self.run_check([], state_=without)
        queue_arn = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:stk-Queue-1"
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            self.assertTrue(any(f"Worker (role WorkerRole) may not {action} on {queue_arn}" in f for f in failures),
                            failures)
        self.assertTrue(any("AWSLambdaSQSQueueExecutionRole is not known" in w for w in warnings))

    def test_the_schedule_role_is_checked_for_trust_and_invoke(self):
        failures, _, _, _ = self.run_check([])
        self.assertEqual(failures, [])
        other_account = TEMPLATE.replace("aws:SourceAccount: !Ref AWS::AccountId", "aws:SourceAccount: '999999999999'")
        failures, _, _, _ = self.run_check([], template=other_account)
        self.assertTrue(any("does not let scheduler.amazonaws.com assume it" in f for f in failures), failures)
        no_invoke = TEMPLATE.replace("Resource: !GetAtt Ticker.Arn", "Resource: !GetAtt Worker.Arn")
        failures, _, _, _ = self.run_check([], template=no_invoke)
        self.assertTrue(any(f"role TickRole may not lambda:InvokeFunction on arn:aws:lambda:eu-west-1:{ACCOUNT}"
                            ":function:stk-Ticker-1" in f for f in failures), failures)

    def test_grants_no_call_used_are_reported(self):
        _, _, report, _ = self.run_check([call("stk-WorkerRole-1", "dynamodb:GetItem", TABLE_ARN)])
        worker = "\n".join(line for line in report if "[WorkerRole/" in line)
        self.assertIn(f"unused: dynamodb:Query on {TABLE_ARN}  [WorkerRole/", worker)
        self.assertNotIn(f"dynamodb:GetItem on {TABLE_ARN}  [", worker)
        self.assertIn("Worker (role WorkerRole): 3 granted (action, resource) pairs unused", report)

    def test_a_condition_it_cannot_evaluate_does_not_allow(self):
        statement = Statement({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                               "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}, "test")
        decision, notes = evaluate([statement], "s3:GetObject", "arn:aws:s3:::b/k")
        self.assertEqual(decision, "ImplicitDeny")
        self.assertIn("cannot evaluate", notes[0])

    def test_an_explicit_deny_wins_and_wildcards_match(self):
        allow = Statement({"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE_ARN + "*"}, "a")
        deny = Statement({"Effect": "Deny", "Action": "dynamodb:Delete*", "Resource": "*"}, "d")
        self.assertEqual(evaluate([allow, deny], "dynamodb:query", TABLE_ARN + "/index/x")[0], "Allow")
        self.assertEqual(evaluate([allow, deny], "dynamodb:DeleteItem", TABLE_ARN)[0], "Deny")
        self.assertEqual(evaluate([allow], "sqs:SendMessage", TABLE_ARN)[0], "ImplicitDeny")


if __name__ == "__main__":
    unittest.main()

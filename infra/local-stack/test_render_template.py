"""Tests of render_template.py: run with `python -m unittest` in infra/local-stack (the template
lint script does)."""

import os
import tempfile
import unittest

import yaml

from render_template import CfnLoader, references, render

TEMPLATE = """
Parameters:
  QueueVisibilityTimeout: { Type: Number, Default: 360, MinValue: 360, MaxValue: 43200 }
  Other: { Type: Number, MinValue: 2 }
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Built:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: built } }
    Properties:
      CodeUri: functions/built
      Environment: { Variables: { T: !Ref Table, OTHER: !GetAtt Missing.Arn } }
  Missing:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: missing } }
    Properties: { CodeUri: functions/missing }
  Alone:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: alone } }
    Properties: { CodeUri: functions/alone, Environment: { Variables: { T: !Ref Table } } }
  Permission:
    Type: AWS::Lambda::Permission
    Properties: { FunctionName: !Sub "${Alone}" }
  MathAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties: { Metrics: [{ Id: e, Expression: "SUM([a])" }] }
  PlainAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties: { MetricName: Errors, Namespace: AWS/Lambda }
  Shadowed:
    Type: AWS::SNS::Topic
    Properties: { DisplayName: !Sub ["${Missing}", { Missing: fixed }] }
Outputs:
  Kept: { Value: !Ref Table }
  Dropped: { Value: !Sub "${Missing.Arn}" }
"""


class RenderTemplate(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        for binary in ("built", "alone"):
            os.makedirs(f"{self.dir}/{binary}")
            open(f"{self.dir}/{binary}/bootstrap.zip", "wb").close()
        self.template = yaml.load(TEMPLATE, Loader=CfnLoader)

    def test_built_functions_point_at_their_zip(self):
        rendered, _ = render(self.template, self.dir)
        self.assertEqual(
            rendered["Resources"]["Alone"]["Properties"]["CodeUri"],
            f"{self.dir}/alone/bootstrap.zip",
        )

    def test_a_missing_function_and_everything_referring_to_it_are_left_out(self):
        rendered, missing = render(self.template, self.dir)
        self.assertEqual(missing, ["missing"])
        self.assertEqual(
            sorted(rendered["Resources"]), ["Alone", "Permission", "PlainAlarm", "Shadowed", "Table"]
        )
        self.assertEqual(sorted(rendered["Outputs"]), ["Kept"])

    def test_only_the_queue_visibility_minimum_is_dropped(self):
        rendered, _ = render(self.template, self.dir)
        self.assertEqual(
            rendered["Parameters"]["QueueVisibilityTimeout"],
            {"Type": "Number", "Default": 360, "MaxValue": 43200},
        )
        self.assertEqual(rendered["Parameters"]["Other"], {"Type": "Number", "MinValue": 2})

    def test_short_form_tags_read_as_long_form(self):
        self.assertEqual(
            self.template["Resources"]["Built"]["Properties"]["Environment"]["Variables"],
            {"T": {"Ref": "Table"}, "OTHER": {"Fn::GetAtt": ["Missing", "Arn"]}},
        )

    def test_sub_variables_shadow_logical_ids(self):
        self.assertEqual(references(self.template["Resources"]["Shadowed"]), set())
        self.assertEqual(references(self.template["Resources"]["Permission"]), {"Alone"})

    def test_the_real_template_keeps_every_resource_when_every_function_is_built(self):
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "..", "..", "template.yaml")) as f:
            template = yaml.load(f, Loader=CfnLoader)
        names = set(template["Resources"])
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                binary = resource["Metadata"]["BuildProperties"]["Binary"]
                os.makedirs(f"{self.dir}/{binary}", exist_ok=True)
                open(f"{self.dir}/{binary}/bootstrap.zip", "wb").close()
        math_alarms = {
            n for n, r in template["Resources"].items()
            if r["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in r["Properties"]
        }
        self.assertIn("FunctionErrorsAlarm", math_alarms)
        rendered, missing = render(template, self.dir)
        self.assertEqual(missing, [])
        self.assertEqual(set(rendered["Resources"]), names - math_alarms)

    def test_metric_math_alarms_are_left_out_and_plain_ones_kept(self):
        rendered, _ = render(self.template, self.dir)
        self.assertNotIn("MathAlarm", rendered["Resources"])
        self.assertIn("PlainAlarm", rendered["Resources"])


if __name__ == "__main__":
    unittest.main()

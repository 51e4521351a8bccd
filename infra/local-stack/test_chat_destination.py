"""Unit tests of chat_destination.py and chat_receiver.py (no emulator needed)."""

import json
import os
import threading
import unittest
import urllib.request
from http.server import ThreadingHTTPServer

import yaml

import chat_destination
import chat_receiver
from render_template import CfnLoader

TEMPLATE = os.path.join(os.path.dirname(__file__), "..", "..", "template.yaml")


class ChatRuleFromTheTemplate(unittest.TestCase):
    def test_the_local_rule_is_the_templates_chat_rule(self):
        with open(TEMPLATE, encoding="utf-8") as f:
            template = yaml.load(f, Loader=CfnLoader)
        pattern, transformer, header = chat_destination.chat_rule(template)
        self.assertEqual(pattern["source"], ["zammad-kimai-sync"])
        self.assertIn("SyncRun Failed", pattern["detail-type"])
        self.assertEqual(transformer["InputPathsMap"]["summary"], "$.detail.summary")
        self.assertIn("<summary>", transformer["InputTemplate"])
        self.assertEqual(header, template["Parameters"]["ChatWebhookApiKeyName"]["Default"])


class Receiver(unittest.TestCase):
    def test_a_post_is_kept_and_listed(self):
        deliveries = chat_receiver.Deliveries()
        server = ThreadingHTTPServer(("127.0.0.1", 0), chat_receiver.handler_for(deliveries))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            body = json.dumps({"text": "Zammad-Kimai sync, SyncRun Failed: run x failed"}).encode()
            request = urllib.request.Request(
                base + "/chat", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request) as answer:
                self.assertEqual(answer.status, 200)
            with urllib.request.urlopen(base + "/deliveries") as answer:
                listed = json.load(answer)
            self.assertEqual(len(listed), 1)
            self.assertEqual(listed[0]["json"]["text"], "Zammad-Kimai sync, SyncRun Failed: run x failed")
            self.assertEqual(listed[0]["path"], "/chat")
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    unittest.main()

"""The constructs from Python, through the wheel jsii-pacmak built (`make cdk-test` installs it into the venv).

Synthesizes examples/contact_center.py (the provider, a user, a set from a CSV asset) and checks its template, then
synthesizes the TypeScript twin (examples/contact-center.ts, compiled by `npm test`) and finds the same template:
the same constructs, with the same defaults, in both languages.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import aws_cdk as cdk

CDK = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(CDK, "examples"))

from contact_center import ContactCenterStack  # noqa: E402
from connect_user_resource_cdk import ConnectUserProvider  # noqa: E402

ENV = cdk.Environment(account="123456789012", region="us-east-1")
SETTINGS = dict(instance_id="inst-1", routing_profile_id="rp-1", agent_security_profile_id="sp-agent")


def fixtures(directory, arch="arm64"):
    """A stand-in for the cargo-lambda zip (synthesis hashes it and reads its recorded architecture) and a roster."""
    zip_path = os.path.join(directory, "bootstrap.zip")
    with open(zip_path, "w") as f:
        f.write("not a real zip")
    if arch is not None:
        with open(os.path.join(directory, "bootstrap.arch"), "w") as f:
            f.write(arch + "\n")
    csv_path = os.path.join(directory, "agents.csv")
    with open(csv_path, "w") as f:
        f.write("user login,first name,last name,routing profile name,security profile name\n")
        f.write("ana.silva,Ana,Silva,Basic Routing Profile,Agent\n")
    return zip_path, csv_path


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


class ContactCenterFromPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cdk-python-")
        cls.zip, cls.csv = fixtures(cls.dir)
        cls.outdir = os.path.join(cls.dir, "cdk.out")
        app = cdk.App(outdir=cls.outdir)
        ContactCenterStack(app, "ContactCenter", env=ENV, code_path=cls.zip, roster_file=cls.csv, **SETTINGS)
        cls.template = app.synth().get_stack_by_name("ContactCenter").template

    def test_no_wildcard_actions(self):
        statements = [
            st
            for policy in resources(self.template, "AWS::IAM::Policy").values()
            for st in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        actions = [a for st in statements for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])]
        self.assertIn("connect:CreateUser", actions)
        self.assertIn("secretsmanager:GetSecretValue", actions, "the agent's secret is granted")
        self.assertEqual([a for a in actions if "*" in a], [], "no wildcard action")

    def test_the_function_arn_is_every_service_token(self):
        functions = resources(self.template, "AWS::Lambda::Function")
        self.assertEqual(len(functions), 1)
        (function_id, function), = functions.items()
        self.assertEqual(function["Properties"]["Architectures"], ["arm64"], "as recorded beside the zip")
        custom = {**resources(self.template, "Custom::ConnectUser"), **resources(self.template, "Custom::ConnectUserSet")}
        self.assertEqual(len(custom), 2)
        for resource in custom.values():
            self.assertEqual(resource["Properties"]["ServiceToken"], {"Fn::GetAtt": [function_id, "Arn"]})

    def test_the_csv_is_an_asset_its_location_the_source_and_its_hash_the_version(self):
        (set_props,) = [r["Properties"] for r in resources(self.template, "Custom::ConnectUserSet").values()]
        # The assembly's own record of the asset: which file, under which hash, uploaded to which key.
        with open(os.path.join(self.outdir, "ContactCenter.assets.json")) as f:
            files = json.load(f)["files"]
        csv_assets = [(h, a) for h, a in files.items() if a["source"]["path"].endswith(".csv")]
        self.assertEqual(len(csv_assets), 1, files)
        asset_hash, asset = csv_assets[0]
        (destination,) = asset["destinations"].values()
        self.assertEqual(set_props["SourceVersion"], asset_hash)
        self.assertEqual(set_props["SourceFormat"], "csv")
        self.assertEqual(set_props["Source"], f"s3://{destination['bucketName']}/{destination['objectKey']}")
        self.assertEqual(destination["objectKey"], f"{asset_hash}.csv")
        self.assertNotIn("Users", set_props, "no inline users")
        self.assertEqual(set_props["MaxDeletions"], "25")
        self.assertEqual(set_props["Defaults"], {"RoutingProfileId": "rp-1", "SecurityProfileIds": ["sp-agent"]})

    def test_a_user_gets_the_secret_arn_and_string_values(self):
        (user,) = [r["Properties"] for r in resources(self.template, "Custom::ConnectUser").values()]
        (secret_id,) = resources(self.template, "AWS::SecretsManager::Secret")
        self.assertEqual(user["PasswordSecretId"], {"Ref": secret_id})
        self.assertNotIn("Password", user)
        self.assertEqual(user["PhoneConfig"], {"PhoneType": "SOFT_PHONE", "AfterContactWorkTimeLimit": "0"})
        self.assertEqual(user["IdentityInfo"], {"FirstName": "Jane", "LastName": "Doe"})
        self.assertEqual(user["ServiceTimeout"], "600")

    def test_a_zip_without_a_recorded_architecture_is_refused_in_python_too(self):
        directory = tempfile.mkdtemp(prefix="cdk-python-")
        zip_path, _ = fixtures(directory, arch=None)
        stack = cdk.Stack(cdk.App(), "Refused", env=ENV)
        with self.assertRaisesRegex(Exception, "no architecture is recorded beside it"):
            ConnectUserProvider(stack, "Provider", code_path=zip_path)

    def test_the_typescript_twin_synthesizes_the_same_template(self):
        script = os.path.join(CDK, "build", "examples", "contact-center.js")
        env = dict(os.environ, CDK_OUTDIR=os.path.join(self.dir, "cdk.out.ts"))
        out = subprocess.run(["node", script, self.zip, self.csv], check=True, capture_output=True, text=True, env=env)
        typescript = json.loads(out.stdout)

        def comparable(template):
            # CDKMetadata records which language built the stack; everything else must be equal.
            t = json.loads(json.dumps(template))
            t["Resources"].pop("CDKMetadata", None)
            t.get("Conditions", {}).pop("CDKMetadataAvailable", None)
            return t

        self.assertEqual(comparable(self.template), comparable(typescript))


class TheDocShowsTheExamples(unittest.TestCase):
    """docs/cdk.md's side-by-side stack is the examples' code, line for line, so that what it shows is what is tested."""

    def test_each_language_block_is_in_its_example(self):
        with open(os.path.join(CDK, "..", "docs", "cdk.md")) as f:
            doc = f.read()
        section = doc.split("## The same stack in TypeScript and Python")[1].split("\n## ")[0]
        for lang, example in (("ts", "contact-center.ts"), ("python", "contact_center.py")):
            blocks = section.split(f"```{lang}\n")[1:]
            self.assertEqual(len(blocks), 1, f"one {lang} block")
            shown = [line.strip() for line in blocks[0].split("```")[0].strip().splitlines()]
            with open(os.path.join(CDK, "examples", example)) as f:
                code = [line.strip() for line in f.read().splitlines()]
            starts = [i for i in range(len(code)) if code[i : i + len(shown)] == shown]
            self.assertEqual(len(starts), 1, f"docs/cdk.md's {lang} block is not in examples/{example} as written")


if __name__ == "__main__":
    unittest.main()

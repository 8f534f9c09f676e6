"""hk-pr-comment against a fake `gh`/`glab` on PATH that records its calls (scripts/test runs
this: python3 -m unittest discover -s examples/scripts/tests)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "hk-pr-comment")
TOKEN = "ghp_TESTTOKEN_must_never_appear_1234567890"


def plan_markdown(digest_hex="a" * 64, body="```diff\n~ spec.x: 1 → 2\n```\n"):
    return f"## hk plan\n\nPlan: 1 change in 1 environment (1 step).\n\n{body}\n`plan_digest: sha256:{digest_hex}`\n"


class Forge:
    def __init__(self, tool):
        self.tool = tool
        self.dir = tempfile.mkdtemp(prefix="hk-forge-")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        for name in ("gh", "glab"):
            shutil.copy(os.path.join(HERE, "fake-forge"), os.path.join(self.bin, name))
            os.chmod(os.path.join(self.bin, name), 0o755)
        self.state_path = os.path.join(self.dir, "state.json")
        self.log = os.path.join(self.dir, "calls.jsonl")
        me = "github-actions[bot]" if tool == "gh" else "project_1_bot"
        self.write({"next": 100, "me": me, "comments": {"7": []}, "issues": [], "commit_pulls": {}})

    def state(self):
        with open(self.state_path, encoding="utf-8") as f:
            return json.load(f)

    def write(self, s):
        with open(self.state_path, "w", encoding="utf-8") as f:
            json.dump(s, f)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def run(self, *args, input_text=None, expect=0):
        path = os.path.join(self.dir, "input.md")
        if input_text is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(input_text)
        argv = [SCRIPT, "--platform", "github" if self.tool == "gh" else "gitlab"] + [path if a == "@input" else a for a in args]
        env = {
            "PATH": self.bin + ":/usr/bin:/bin",
            "FAKE_FORGE_STATE": self.state_path,
            "FAKE_FORGE_LOG": self.log,
            "GH_TOKEN": TOKEN,
            "GITLAB_TOKEN": TOKEN,
        }
        r = subprocess.run([sys.executable] + argv, capture_output=True, text=True, env=env, check=False)
        assert r.returncode == expect, f"exit {r.returncode}: {r.stdout}{r.stderr}"
        assert TOKEN not in r.stdout + r.stderr
        return r

    def comments(self, pr="7"):
        return self.state()["comments"].get(pr, [])


class PlanCommentTests(unittest.TestCase):
    tool = "gh"

    def test_one_sticky_comment_per_environment_updated_never_duplicated(self):
        f = Forge(self.tool)
        f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text=plan_markdown())
        f.run("plan", "--pr", "7", "--env", "prod", "--file", "@input", input_text=plan_markdown("b" * 64))
        self.assertEqual(len(f.comments()), 2)
        dev = [c for c in f.comments() if c["body"].startswith("<!-- hk-plan env=dev part=1 -->\n")]
        self.assertEqual(len(dev), 1)
        self.assertIn("<!-- hk-plan-digest sha256:" + "a" * 64 + " -->", dev[0]["body"])
        self.assertIn("plan_digest: sha256:" + "a" * 64, dev[0]["body"])
        first_id = dev[0]["id"]
        # A new plan for dev updates the same comment.
        f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text=plan_markdown("c" * 64))
        dev = [c for c in f.comments() if "env=dev" in c["body"]]
        self.assertEqual([c["id"] for c in dev], [first_id])
        self.assertIn("sha256:" + "c" * 64, dev[0]["body"])
        # The same plan again changes nothing (no write call).
        before = len(f.calls())
        f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text=plan_markdown("c" * 64))
        self.assertEqual({c["method"] for c in f.calls()[before:]}, {"GET"})
        for call in f.calls():
            self.assertNotIn(TOKEN, json.dumps(call))

    def test_someone_elses_marker_is_ignored(self):
        f = Forge(self.tool)
        s = f.state()
        s["comments"]["7"].append({"id": 5, "author": "mallory", "body": "<!-- hk-plan env=dev part=1 -->\n<!-- hk-plan-digest sha256:" + "f" * 64 + " -->\n"})
        s["commit_pulls"]["abc1234"] = [{"number": 7, "merged": True}]
        f.write(s)
        # the digest lookup finds no comment of hk's
        r = f.run("digest", "--commit", "abc1234", "--env", "dev", expect=1)
        self.assertIn("has no hk plan comment for dev", r.stderr)
        f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text=plan_markdown())
        self.assertEqual(len(f.comments()), 2)
        r = f.run("digest", "--commit", "abc1234", "--env", "dev")
        self.assertEqual(r.stdout.strip(), "sha256:" + "a" * 64)

    def test_long_plans_are_split_under_the_limit_and_old_parts_removed(self):
        f = Forge(self.tool)
        big = "```diff\n" + ("+ " + "x" * 100 + "\n") * 1500 + "```\n"
        md = plan_markdown(body=big + "\n<!-- hk:part -->\n" + big)
        f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text=md)
        bodies = [c["body"] for c in f.comments()]
        self.assertGreaterEqual(len(bodies), 4)
        for i, b in enumerate(bodies, 1):
            self.assertLessEqual(len(b), 65536)
            self.assertTrue(b.startswith(f"<!-- hk-plan env=dev part={i} -->\n"), b[:60])
            self.assertIn(f"(part {i} of {len(bodies)})", b)
        # A short plan later: one comment left, the same first one.
        first = f.comments()[0]["id"]
        f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text=plan_markdown())
        self.assertEqual([c["id"] for c in f.comments()], [first])

    def test_a_plan_without_digest_and_bad_names_are_refused(self):
        f = Forge(self.tool)
        r = f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text="## hk plan\n", expect=1)
        self.assertIn("no plan_digest", r.stderr)
        f.run("plan", "--pr", "7", "--env", "dev;rm", "--file", "@input", input_text=plan_markdown(), expect=1)
        f.run("digest", "--commit", "$(id)", "--env", "dev", expect=1)
        self.assertEqual(f.comments(), [])

    def test_a_forge_failure_is_one_line_without_secrets(self):
        f = Forge(self.tool)
        s = f.state()
        s["fail"] = True
        f.write(s)
        r = f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text=plan_markdown(), expect=1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        self.assertIn("bad gateway", r.stderr)

    def test_the_reviewed_digest_needs_a_merged_request(self):
        f = Forge(self.tool)
        f.run("plan", "--pr", "7", "--env", "dev", "--file", "@input", input_text=plan_markdown())
        s = f.state()
        s["commit_pulls"]["abc1234"] = [{"number": 7, "merged": False}]
        f.write(s)
        r = f.run("digest", "--commit", "abc1234", "--env", "dev", expect=1)
        self.assertIn("no merged pull request", r.stderr)
        r = f.run("digest", "--commit", "abc1234", "--env", "prod", expect=1)


class DriftIssueTests(unittest.TestCase):
    tool = "gh"

    def test_one_issue_per_drifted_environment_opened_updated_closed(self):
        f = Forge(self.tool)
        f.run("drift", "--env", "dev", "--file", "@input", "--drifted", "no", input_text="no drift\n")
        self.assertEqual(f.state()["issues"], [])
        f.run("drift", "--env", "dev", "--file", "@input", "--drifted", "yes", input_text="## drift\nspec.x\n")
        f.run("drift", "--env", "prod", "--file", "@input", "--drifted", "yes", input_text="## drift\nspec.y\n")
        issues = f.state()["issues"]
        self.assertEqual(len(issues), 2)
        self.assertEqual(issues[0]["title"], "hk drift: dev")
        # unchanged drift: no write
        before = len(f.calls())
        f.run("drift", "--env", "dev", "--file", "@input", "--drifted", "yes", input_text="## drift\nspec.x\n")
        self.assertEqual({c["method"] for c in f.calls()[before:]}, {"GET"})
        # new drift: the same issue updated
        f.run("drift", "--env", "dev", "--file", "@input", "--drifted", "yes", input_text="## drift\nspec.z\n")
        issues = f.state()["issues"]
        self.assertEqual(len(issues), 2)
        self.assertIn("spec.z", issues[0]["body"])
        # gone: closed with a comment; prod stays open
        f.run("drift", "--env", "dev", "--file", "@input", "--drifted", "no", input_text="")
        issues = f.state()["issues"]
        self.assertEqual([i["state"] for i in issues], ["closed", "open"])
        self.assertIn("No drift in `dev`", f.comments(str(issues[0]["id"]))[0]["body"])
        # drift again: a new issue
        f.run("drift", "--env", "dev", "--file", "@input", "--drifted", "yes", input_text="## drift\nspec.x\n")
        self.assertEqual(len([i for i in f.state()["issues"] if i["state"] == "open"]), 2)


class GitLabPlanCommentTests(PlanCommentTests):
    tool = "glab"


class GitLabDriftIssueTests(DriftIssueTests):
    tool = "glab"


if __name__ == "__main__":
    unittest.main()

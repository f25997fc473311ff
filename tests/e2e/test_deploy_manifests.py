"""e2e, deploy/: the Kubernetes manifests against the real binary and the Hub emulator.

Proved here:
- every YAML file under deploy/ parses; the Helm templates parse after their `{{ }}` actions are
  stripped (control lines dropped, inline actions replaced by a placeholder), and every spec
  key they emit is a field of the RGD's schema. Helm's rendering itself (defaults, `required`)
  is not run: there is no helm binary in CI.
- RGD: every `schema.spec.X[.Y]` reference is declared in the schema; every `<id>.` reference
  names a resource; readyWhen only looks at its own resource; no TTL anywhere; no bash `${`
  in the container scripts (it would be parsed as kro CEL); the IAM policy is valid JSON (with
  placeholders for CEL) naming exactly the S3 actions the project README lists; the examples
  set every required field and match the schema's patterns.
- Argo: the RGD's workflow runs the same script, env, retry, deadlines and podGC as the
  WorkflowTemplate; every `{{workflow.parameters.X}}` is declared; the CronWorkflows use
  `schedules:` and only parameters the template declares.
- every hfmirror flag the scripts pass is listed by `$HFMIRROR_BIN sync --help`.
- the Dockerfile's runtime apt list is exactly the Debian packages (`dpkg -S`) of the libraries
  `ldd $HFMIRROR_BIN` reports, plus ca-certificates.
- the single-pod WorkflowTemplate's container (command, args, env, workingDir), with parameters
  substituted as Argo does, mirrors acme/tiny from the emulator into a folder (the template's
  `destination` parameter), writes the commit output file, and a second run transfers nothing;
  include/exclude are split on blanks with no globbing and no shell evaluation.
Only read, not run: kro's CEL evaluation, ACK/EKS/IAM behaviour, Argo's controller, the image
build.
"""

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

import yaml  # noqa: E402

import hubemu  # noqa: E402
from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import read_manifest  # noqa: E402

ROOT = hubemu.REPO_ROOT
DEPLOY = ROOT / "deploy"
RGD = DEPLOY / "kro" / "huggingfacemodel-rgd.yaml"
WFT = DEPLOY / "argo" / "hfmirror-sync-workflowtemplate.yaml"
CHART = DEPLOY / "helm" / "hfmirror-models"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
TINY = "acme/tiny"
PARAM_RE = re.compile(r"\{\{\s*workflow\.parameters\.([A-Za-z0-9_-]+)\s*\}\}")
CEL_RE = re.compile(r"\$\{")


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def strip_helm(text):
    """Helm template -> plain YAML: action-only lines dropped, inline actions -> placeholder."""
    out = []
    for line in text.splitlines():
        if re.fullmatch(r"\s*\{\{-?.*-?\}\}\s*", line):
            continue
        out.append(re.sub(r"\{\{-?.*?-?\}\}", "helm-value", line))
    return "\n".join(out) + "\n"


def cel_blocks(text):
    """Every `${...}` expression in text (balanced braces, strings skipped)."""
    blocks, i = [], 0
    while True:
        i = text.find("${", i)
        if i < 0:
            return blocks
        depth, j, quote = 0, i + 1, None
        while j < len(text):
            c = text[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        blocks.append(text[i + 2:j])
        i = j + 1


def macro_vars(cel):
    """Variables bound by CEL macros (`list.exists(c, ...)`), not resource ids."""
    return set(re.findall(r"\b(?:all|exists|exists_one|filter|map)\(\s*([a-z]\w*)\s*,", cel))


def schema_field(spec_schema, path):
    node = spec_schema
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def markers(decl):
    """SimpleSchema `type | k=v k="v"` -> (type, {k: v})."""
    typ, _, rest = decl.partition("|")
    return typ.strip(), dict((k, v1 if v1 else v2) for k, v1, v2 in
                             re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))', rest))


def by_name(items):
    return {i["name"]: i for i in items}


def sync_template(spec):
    return by_name(spec["templates"])["sync"]


def shell_flags(script):
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", script)))


class ManifestTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.rgd = load_all(RGD)[0]
        cls.schema_spec = cls.rgd["spec"]["schema"]["spec"]
        cls.resources = {r["id"]: r for r in cls.rgd["spec"]["resources"]}
        cls.wft = load_all(WFT)[0]

    def test_every_yaml_file_parses(self):
        files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))
        self.assertGreaterEqual(len(files), 8, files)
        for p in files:
            with self.subTest(str(p.relative_to(ROOT))):
                text = p.read_text(encoding="utf-8")
                if "templates" in p.parts:
                    docs = [d for d in yaml.safe_load_all(strip_helm(text)) if d is not None]
                else:
                    docs = load_all(p)
                self.assertTrue(docs, "no document")
                for d in docs:
                    self.assertIsInstance(d, dict)

    def test_helm_chart_values_and_template_fields(self):
        chart = load_all(CHART / "Chart.yaml")[0]
        self.assertEqual(chart["apiVersion"], "v2")
        self.assertEqual(chart["name"], CHART.name)
        values = load_all(CHART / "values.yaml")[0]
        self.assertIn("huggingfaceModels", values)
        self.assertIn("global", values)
        docs = list(yaml.safe_load_all(strip_helm((CHART / "templates" / "huggingfacemodels.yaml")
                                                  .read_text(encoding="utf-8"))))
        hfm = [d for d in docs if d and d.get("kind") == "HuggingFaceModel"]
        self.assertEqual(len(hfm), 1)
        self.assertEqual(hfm[0]["apiVersion"], "kro.run/v1alpha1")
        for key, val in hfm[0]["spec"].items():
            self.assertIn(key, self.schema_spec, f"the chart emits spec.{key}, unknown to the RGD")
            if isinstance(val, dict):
                for sub in val:
                    self.assertIn(sub, self.schema_spec[key], f"spec.{key}.{sub}")
        # Every required RGD field is emitted, and every field of the seed's values entries is read.
        required = {k for k, v in self.schema_spec.items()
                    if isinstance(v, str) and markers(v)[1].get("required") == "true"}
        self.assertLessEqual(required, set(hfm[0]["spec"]))
        tmpl = (CHART / "templates" / "huggingfacemodels.yaml").read_text(encoding="utf-8")
        for field in ("name", "modelId", "s3Bucket", "namespace", "serviceAccount", "accountId", "region",
                      "clusterName", "revision", "include", "exclude", "schedule"):
            self.assertIn(f"$m.{field}", tmpl, f"entry field {field} is ignored by the template")
        ex = load_all(CHART / "examples-values.yaml")[0]
        pattern = markers(self.schema_spec["modelId"])[1]["pattern"]
        for m in ex["huggingfaceModels"]:
            self.assertRegex(m["modelId"], pattern)

    def test_rgd_schema_references_exist(self):
        text = RGD.read_text(encoding="utf-8")
        refs = set()
        for block in cel_blocks(text):
            for m in re.finditer(r"schema\.spec((?:\.\??[A-Za-z_]\w*)+)", block):
                refs.add(tuple(p.lstrip("?") for p in m.group(1).split(".")[1:]))
        self.assertGreater(len(refs), 10)
        methods = {"orValue", "join"}
        for ref in sorted(refs):
            path = tuple(p for p in ref if p not in methods)
            self.assertIsNotNone(schema_field(self.schema_spec, path), f"schema.spec.{'.'.join(path)}")
        # Every other identifier before a field access is a resource id or a CEL variable.
        ids = set(self.resources)
        for rid in ids:
            self.assertRegex(rid, r"^[a-z][A-Za-z0-9]*$")
        for block in cel_blocks(text):
            for m in re.finditer(r"(?<![\w.\"])([a-z][A-Za-z0-9]*)\.(status|spec|metadata)\b", block):
                self.assertIn(m.group(1), ids | {"schema"} | macro_vars(block), block)
        for rid, r in self.resources.items():
            for cond in r.get("readyWhen", []):
                used = set(re.findall(r"(?<![\w.\"])([a-z][A-Za-z0-9]*)\.(?:status|spec|metadata)", cond))
                self.assertEqual(used - macro_vars(cond), {rid}, f"readyWhen of {rid} may only look at itself")

    def test_rgd_resources(self):
        kinds = {r["template"]["kind"] for r in self.resources.values()}
        self.assertLessEqual({"ServiceAccount", "Policy", "Role", "PodIdentityAssociation", "Workflow",
                              "CronWorkflow"}, kinds)
        for doc in [self.rgd, self.wft] + [d for p in (DEPLOY / "argo").glob("*.yaml") for d in load_all(p)]:
            self.assertNotIn("ttlStrategy", json.dumps(doc))
            self.assertNotIn("ttlSecondsAfterFinished", json.dumps(doc))
        wf = self.resources["syncWorkflow"]
        self.assertIn("hash.fnv64a(schema.spec.modelId", wf["template"]["metadata"]["name"])
        self.assertIn('"Succeeded"', wf["readyWhen"][0])
        cron = self.resources["resync"]
        self.assertEqual(cron["includeWhen"], ['${schema.spec.schedule != ""}'])
        self.assertIn("schedules", cron["template"]["spec"])
        self.assertNotIn("schedule", cron["template"]["spec"])
        self.assertEqual(cron["template"]["spec"]["workflowSpec"], wf["template"]["spec"])
        sa = self.resources["serviceAccount"]["template"]
        self.assertNotIn("eks.amazonaws.com/role-arn", sa["metadata"].get("annotations", {}))
        role = self.resources["iamRole"]["template"]["spec"]
        trust = json.loads(role["assumeRolePolicyDocument"])
        self.assertEqual(trust["Statement"][0]["Principal"], {"Service": "pods.eks.amazonaws.com"})
        self.assertEqual(sorted(trust["Statement"][0]["Action"]), ["sts:AssumeRole", "sts:TagSession"])
        status = self.rgd["spec"]["schema"]["status"]
        self.assertEqual(set(status), {"phase", "progress", "commit", "s3Uri", "message"})
        for name in ("s3Policy", "iamRole", "podIdentity"):
            self.assertIn("ACK.ResourceSynced", self.resources[name]["readyWhen"][0])
            self.assertNotIn("[0]", self.resources[name]["readyWhen"][0])

    def test_iam_policy_is_exactly_what_the_readme_lists(self):
        doc = self.resources["s3Policy"]["template"]["spec"]["policyDocument"]
        for block in cel_blocks(doc):
            doc = doc.replace("${" + block + "}", "CEL")
        policy = json.loads(doc)
        actions = set()
        for st in policy["Statement"]:
            self.assertEqual(st["Effect"], "Allow")
            a = st["Action"]
            actions |= set([a] if isinstance(a, str) else a)
            self.assertNotIn("*", st["Resource"].replace("/*", ""), "only the bucket and prefix/*")
            self.assertEqual(st["Condition"]["StringEquals"], {"s3:ResourceAccount": "CEL"})
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        line = next(ln for ln in readme.replace("\n  ", " ").splitlines() if "Permissions needed" in ln)
        self.assertEqual(actions, set(re.findall(r"`(s3:\w+)`", line)))
        objects = next(st for st in policy["Statement"] if "s3:PutObject" in st["Action"])
        self.assertTrue(objects["Resource"].endswith("/CEL/*"), objects["Resource"])

    def test_examples_match_the_schema(self):
        required = {k for k, v in self.schema_spec.items()
                    if isinstance(v, str) and markers(v)[1].get("required") == "true"}
        examples = sorted((DEPLOY / "kro" / "examples").glob("*.yaml"))
        self.assertGreaterEqual(len(examples), 2)
        for p in examples:
            for d in load_all(p):
                with self.subTest(p.name):
                    self.assertEqual(d["kind"], "HuggingFaceModel")
                    self.assertEqual(d["apiVersion"], "kro.run/" + self.rgd["spec"]["schema"]["apiVersion"])
                    self.assertLessEqual(required, set(d["spec"]))
                    for k, v in d["spec"].items():
                        self.assertIn(k, self.schema_spec)
                        decl = self.schema_spec[k]
                        if isinstance(decl, str):
                            pat = markers(decl)[1].get("pattern")
                            if pat:
                                self.assertRegex(str(v), pat, f"{p.name}: spec.{k}")

    def test_rgd_workflow_is_the_workflow_template(self):
        rgd_spec = self.resources["syncWorkflow"]["template"]["spec"]
        wft_spec = self.wft["spec"]
        a, b = sync_template(rgd_spec), sync_template(wft_spec)
        self.assertEqual(a["container"]["args"], b["container"]["args"])
        self.assertEqual(a["container"]["command"], b["container"]["command"])
        self.assertEqual(a["container"]["workingDir"], b["container"]["workingDir"])
        self.assertEqual(a["container"]["env"], b["container"]["env"])
        for key in ("retryStrategy", "activeDeadlineSeconds", "outputs"):
            self.assertEqual(a[key], b[key], key)
        for key in ("entrypoint", "activeDeadlineSeconds", "podGC", "onExit"):
            self.assertEqual(rgd_spec[key], wft_spec[key], key)
        self.assertEqual([p["name"] for p in rgd_spec["arguments"]["parameters"]],
                         [p["name"] for p in wft_spec["arguments"]["parameters"]])
        self.assertEqual(by_name(rgd_spec["templates"])["report"]["container"]["args"],
                         by_name(wft_spec["templates"])["report"]["container"]["args"])

    def test_argo_templates(self):
        declared = {p["name"] for p in self.wft["spec"]["arguments"]["parameters"]}
        for p in sorted((DEPLOY / "argo").glob("*.yaml")) + [RGD]:
            text = p.read_text(encoding="utf-8")
            for name in PARAM_RE.findall(text):
                self.assertIn(name, declared, f"{p.name}: workflow.parameters.{name}")
        spec = self.wft["spec"]
        self.assertIn("retryStrategy", sync_template(spec))
        self.assertIn("activeDeadlineSeconds", spec)
        self.assertIn(spec["podGC"]["strategy"], ("OnPodSuccess", "OnPodCompletion", "OnWorkflowSuccess",
                                                  "OnWorkflowCompletion"))
        self.assertIn(spec["onExit"], by_name(spec["templates"]))
        for t in spec["templates"]:
            self.assertIn("requests", t["container"]["resources"], t["name"])
        # Container scripts: no `${` (kro would take it for CEL) and no `{{` (a parameter pasted
        # into shell); parameters come in through env.
        for t in spec["templates"]:
            for arg in t["container"]["args"]:
                self.assertNotIn("${", arg)
                self.assertNotIn("{{", arg)
        no_value = {p["name"] for p in spec["arguments"]["parameters"] if "value" not in p}
        for p in sorted((DEPLOY / "argo").glob("*.yaml")):
            for d in load_all(p):
                if d["kind"] != "CronWorkflow":
                    continue
                with self.subTest(p.name):
                    self.assertIsInstance(d["spec"]["schedules"], list)
                    self.assertNotIn("schedule", d["spec"])
                    ws = d["spec"]["workflowSpec"]
                    self.assertEqual(ws["workflowTemplateRef"]["name"], self.wft["metadata"]["name"])
                    given = {a["name"] for a in ws["arguments"]["parameters"]}
                    self.assertLessEqual(given, declared)
                    self.assertLessEqual(no_value, given)

    def test_every_flag_passed_is_accepted_by_the_binary(self):
        r = subprocess.run([hubemu.hfmirror_bin(), "sync", "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        known = set(re.findall(r"(--[a-z][a-z0-9-]*)", r.stdout))
        scripts = [sync_template(self.wft["spec"])["container"]["args"][0],
                   sync_template(self.resources["syncWorkflow"]["template"]["spec"])["container"]["args"][0]]
        for script in scripts:
            flags = shell_flags(script)
            self.assertIn("--to", flags)
            self.assertIn("--include", flags)
            for flag in flags:
                self.assertIn(flag, known, f"{flag} is not an option of `hfmirror sync`")


class DockerfileTest(unittest.TestCase):
    def runtime_packages(self):
        text = DOCKERFILE.read_text(encoding="utf-8")
        stages = re.split(r"(?m)^FROM ", text)
        runtime = next(s for s in stages if " AS runtime" in s.splitlines()[0])
        cmd = runtime[runtime.index("apt-get install"):]
        cmd = cmd[:cmd.index("&&")]
        return {w for w in cmd.replace("\\", " ").split() if not w.startswith("-")} - {"apt-get", "install"}

    @staticmethod
    def package_of(lib):
        candidates = [lib, os.path.realpath(lib)]
        candidates += [c[len("/usr"):] for c in candidates if c.startswith("/usr/")]
        candidates += ["/usr" + c for c in candidates if not c.startswith("/usr/")]
        for c in candidates:
            r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
            if r.returncode == 0:
                return {line.split(":")[0] for line in r.stdout.splitlines() if ":" in line}
        return None

    def test_runtime_packages_are_exactly_the_binarys_libraries(self):
        r = subprocess.run(["ldd", hubemu.hfmirror_bin()], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        libs = []
        for line in r.stdout.splitlines():
            m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
            if m:
                libs.append(m.group(1))
        self.assertGreater(len(libs), 5, r.stdout)
        listed = self.runtime_packages()
        needed = set()
        for lib in libs:
            pkgs = self.package_of(lib)
            self.assertIsNotNone(pkgs, f"no Debian package ships {lib}")
            needed |= {p.split(":")[0] for p in pkgs}
        self.assertEqual(sorted(needed - listed), [], "libraries of the binary missing from the runtime stage")
        self.assertEqual(sorted(listed - needed - {"ca-certificates"}), [],
                         "runtime packages the binary does not need")
        self.assertIn("ca-certificates", listed)
        text = DOCKERFILE.read_text(encoding="utf-8")
        self.assertIn("FROM debian:bookworm AS builder", text)
        self.assertIn("FROM debian:bookworm-slim AS runtime", text)
        self.assertIn("scripts/setup", text)
        self.assertIn("scripts/build release", text)
        self.assertRegex(text, r"(?m)^USER 65532:65532$")


class WorkflowTemplateRunTest(EmulatorTestCase):
    """The sync container exactly as Argo would start it, against the Hub emulator."""

    def container(self, **params):
        spec = load_all(WFT)[0]["spec"]
        values = {p["name"]: p.get("value") for p in spec["arguments"]["parameters"]}
        values.update(params)

        def subst(s):
            def one(m):
                v = values[m.group(1)]
                self.assertIsNotNone(v, f"parameter {m.group(1)} has no value")
                return v
            return PARAM_RE.sub(one, s)

        c = sync_template(spec)["container"]
        argv = [subst(a) for a in c["command"] + c["args"]]
        env = {}
        for e in c["env"]:
            if "value" in e:
                env[e["name"]] = subst(e["value"])
            else:
                self.assertTrue(e["valueFrom"]["secretKeyRef"]["optional"], e["name"])  # absent Secret
        return argv, env, c["workingDir"]

    def run_container(self, workdir, **params):
        argv, env, working_dir = self.container(**params)
        self.assertEqual(working_dir, "/tmp")
        # The image's /usr/local/bin/hfmirror is the binary under test; the pod's working dir
        # is a fresh folder here.
        bindir = self.tmp / "bin"
        bindir.mkdir(exist_ok=True)
        link = bindir / "hfmirror"
        if not link.exists():
            link.symlink_to(os.path.abspath(hubemu.hfmirror_bin()))
        full = hubemu.base_env(self.emu.hub, extra=env)
        full["PATH"] = f"{bindir}{os.pathsep}{full.get('PATH', '/usr/bin:/bin')}"
        workdir.mkdir(exist_ok=True)
        p = subprocess.run(argv, env=full, cwd=workdir, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, f"stdout: {p.stdout}\nstderr: {p.stderr[-3000:]}")
        summary = json.loads((workdir / "summary.json").read_text())
        self.assertEqual(json.loads(p.stdout), summary, "the summary is also in the pod log")
        return summary, (workdir / "commit").read_text().strip()

    def test_single_pod_sync_mirrors_then_finds_nothing_to_do(self):
        dest = self.tmp / "models" / "tiny"
        params = {"model-id": TINY, "destination": str(dest), "hf-endpoint": self.emu.hub}
        first, commit = self.run_container(self.tmp / "pod1", **params)
        exp = self.assertMirror(dest, TINY, revision="main")
        self.assertEqual(commit, exp["commit"], "the commit output parameter")
        self.assertEqual(first["result"], "ok")
        self.assertEqual(first["files_transferred"], len(exp["by_path"]))
        second, commit2 = self.run_container(self.tmp / "pod2", **params)
        self.assertEqual(commit2, commit)
        self.assertEqual(second["files_transferred"], 0, second)
        self.assertEqual(second["files_removed"], 0, second)
        self.assertEqual(second["bytes_downloaded"], 0, second)
        self.assertMirror(dest, TINY, revision="main")

    def test_include_exclude_are_split_not_globbed_not_evaluated(self):
        dest = self.tmp / "sel"
        workdir = self.tmp / "pod"
        workdir.mkdir()
        (workdir / "decoy.json").write_text("{}")  # a glob of *.json in the working dir would find it
        include, exclude = "*.json *.txt $(touch${IFS}pwned)", "special/* `touch${IFS}pwned2`"
        self.run_container(workdir, **{"model-id": TINY, "destination": str(dest), "hf-endpoint": self.emu.hub,
                                       "include": include, "exclude": exclude})
        self.assertFalse((workdir / "pwned").exists())
        self.assertFalse((workdir / "pwned2").exists())
        exp = self.expected(TINY)
        want = {p: f for p, f in exp["by_path"].items()
                if any(fnmatch.fnmatchcase(p, g) for g in include.split())
                and not any(fnmatch.fnmatchcase(p, g) for g in exclude.split())}
        self.assertGreater(len(want), 1)
        self.assertLess(len(want), len(exp["by_path"]))
        self.assertFilesMatch(dest, want)
        self.assertEqual({f["path"] for f in read_manifest(dest)["files"]}, set(want))


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""The Nitro deploy files (deploy/nitro/) cannot run here (no Nitro host,
Docker or nitro-cli), so this keeps them consistent with each other and with
the code: vsock ports and CIDs, the KMS proxy port, the KMS host name and
region placeholder, the key policy's condition keys and operators against
what sigil-kms enforces, the flags the units pass against the binaries' usage
text, the pinned image inputs, the metric names docs/OPERATIONS.md cites, and
shellcheck on every shell script.

usage: test_deploy_constants.py PATH/TO/bin/sigil TESTS_DIR
"""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

VMADDR_CID_ANY = 4294967295
PARENT_CID = 3
RESERVED_CIDS = {0, 1, 2, PARENT_CID, VMADDR_CID_ANY}
KMS_HOST = "kms.@REGION@.amazonaws.com"

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def flag_values(argv):
    """{"--flag": value} of an argument vector of --flag value pairs."""
    out = {}
    for i, a in enumerate(argv):
        if a.startswith("--") and i + 1 < len(argv):
            out[a] = argv[i + 1]
    return out


def exec_start(unit_text):
    lines = [l for l in unit_text.splitlines() if l.startswith("ExecStart=")]
    assert len(lines) == 1, "one ExecStart= line expected"
    return shlex.split(lines[0][len("ExecStart="):])


def vsock(addr):
    m = re.fullmatch(r"vsock:(\d+):(\d+)", addr or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def dockerfile_entrypoint(text):
    m = re.search(r"^ENTRYPOINT\s+(\[.*?\])\s*$", text.replace("\\\n", " "), re.M | re.S)
    return json.loads(m.group(1)) if m else []


def usage_flags(text):
    return set(re.findall(r"--[a-z][a-z0-9-]*", text))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    bindir = os.path.dirname(os.path.abspath(sys.argv[1]))
    root = os.path.dirname(os.path.abspath(sys.argv[2]))
    nitro = os.path.join(root, "deploy", "nitro")
    units = {n: read(os.path.join(nitro, "systemd", f"sigil-{n}.service"))
             for n in ("gateway", "enclave", "vsock-proxy")}
    dockerfile = read(os.path.join(nitro, "Dockerfile"))

    # --- vsock addressing -------------------------------------------------
    entry = dockerfile_entrypoint(dockerfile)
    check(entry[:1] == ["/usr/bin/sigil-enclave"], "Dockerfile ENTRYPOINT runs /usr/bin/sigil-enclave")
    ef = flag_values(entry)
    gw_argv = exec_start(units["gateway"])
    gf = flag_values(gw_argv)
    launch_argv = exec_start(units["enclave"])
    lf = flag_values(launch_argv)
    listen, gw_enclave = vsock(ef.get("--listen")), vsock(gf.get("--enclave"))
    check(listen == (VMADDR_CID_ANY, 5000), "enclave listens on vsock:VMADDR_CID_ANY:5000")
    check(gw_enclave is not None and listen is not None and gw_enclave[1] == listen[1],
          "gateway --enclave port = enclave --listen port")
    cid = int(lf.get("--enclave-cid", "-1"))
    check(gw_enclave is not None and gw_enclave[0] == cid,
          f"gateway --enclave CID = launcher --enclave-cid ({cid})")
    check(cid not in RESERVED_CIDS and cid > 0, "enclave CID is not a reserved CID (0-3, ANY)")
    check("port 5000" in read(os.path.join(root, "src", "frame", "transport_vsock.c")),
          "the vsock transport documents port 5000")
    check(ef.get("--mode") == "nitro" and gf.get("--mode") == "nitro", "enclave and gateway --mode nitro")
    check(launch_argv[1:3] == ["/usr/bin/nitro-cli", "run-enclave"]
          and not {"--debug-mode", "--attach-console"} & set(launch_argv),
          "launcher runs nitro-cli run-enclave, never in debug mode")
    check({"--eif-path", "--cpu-count", "--memory"} <= set(lf), "launcher sets EIF, CPUs and memory")

    # --- KMS through the vsock-proxy ---------------------------------------
    proxy = vsock(ef.get("--kms-proxy"))
    p_argv = exec_start(units["vsock-proxy"])
    check(proxy is not None and proxy[0] == PARENT_CID, "enclave --kms-proxy targets the parent (CID 3)")
    check(proxy is not None and len(p_argv) >= 4 and p_argv[1] == str(proxy[1]),
          "vsock-proxy listens on the enclave's --kms-proxy port")
    check(proxy is not None and proxy[1] == 8000, "proxy port is 8000")
    check(ef.get("--kms-url") == f"https://{KMS_HOST}", "enclave --kms-url is https://" + KMS_HOST)
    check(p_argv[2:4] == [KMS_HOST, "443"], "vsock-proxy forwards to " + KMS_HOST + ":443")
    allow = read(os.path.join(nitro, "vsock-proxy.yaml"))
    entries = re.findall(r"\{address:\s*([^,\s]+),\s*port:\s*(\d+)\}", allow)
    check(entries == [(KMS_HOST, "443")], "vsock-proxy allowlist = exactly " + KMS_HOST + ":443")
    cfg = flag_values(p_argv).get("--config")
    check(cfg == "/etc/sigil/vsock-proxy.yaml", "vsock-proxy unit reads the Sigil allowlist")
    hosts = set()
    for path in glob.glob(os.path.join(nitro, "**", "*"), recursive=True):
        if os.path.isfile(path):
            hosts |= set(re.findall(r"kms(?:-fips)?\.[A-Za-z0-9@_-]+\.amazonaws\.com", read(path)))
    check(hosts == {KMS_HOST}, f"every KMS host name in deploy/ is {KMS_HOST} (found {sorted(hosts)})")
    check(ef.get("--kms-ca", "").startswith("/etc/ssl/certs/")
          and "/etc/ssl/certs/ca-certificates.crt" in re.split(r"^FROM scratch$", dockerfile, flags=re.M)[0],
          "the CA bundle the enclave names is copied into the image")

    # --- rendering: the scripts fill every placeholder consistently --------
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["bash", os.path.join(nitro, "install-parent.sh"), "--region", "eu-west-1",
                            "--prefix", tmp], capture_output=True, text=True)
        check(r.returncode == 0, "install-parent.sh --prefix renders: " + r.stderr.strip()[-200:])
        rendered = ""
        for path in glob.glob(os.path.join(tmp, "**", "*"), recursive=True):
            if os.path.isfile(path):
                rendered += read(path)
        check(rendered and re.search(r"@[A-Z_]+@", rendered) is None, "no placeholder left after rendering")
        check("kms.eu-west-1.amazonaws.com" in rendered, "rendered files name kms.eu-west-1.amazonaws.com")
    r = subprocess.run(["bash", os.path.join(nitro, "build-enclave.sh"), "--region", "eu-west-1",
                        "--kms-key-id", "arn:aws:kms:us-east-1:111122223333:key/"
                        "1234abcd-12ab-34cd-56ef-1234567890ab"], capture_output=True, text=True)
    check(r.returncode == 2 and "us-east-1" in r.stderr, "build-enclave.sh refuses a key in another region")

    # --- key policy template vs what sigil-kms enforces ---------------------
    policy_src = read(os.path.join(root, "src", "kms", "service_policy.c"))
    prefix = re.search(r'#define ATTEST_PREFIX "([^"]+)"', policy_src)
    prefix = prefix.group(1) if prefix else "?"
    enforced = set(re.findall(r'ieq\(k, \w+, "(\w+)"', policy_src))  # suffixes after the prefix
    operators = set(re.findall(r'strcmp\(op, "(\w+)"\)', policy_src))
    check(prefix == "kms:recipientattestation:" and enforced == {"ImageSha384", "PCR"},
          f"sigil-kms enforces {prefix}ImageSha384 and {prefix}PCR<n> (found {sorted(enforced)})")
    check({"StringEquals", "StringEqualsIgnoreCase"} <= operators, "sigil-kms operators found")
    tpl = json.loads(read(os.path.join(nitro, "kms-key-policy.json")))
    enclave_ops = set()
    for path in glob.glob(os.path.join(root, "src", "enclave", "*.c")):
        for fn in re.findall(r"sigil_kms_(generate_data_key|decrypt|encrypt)\(", read(path)):
            enclave_ops.add("kms:" + {"generate_data_key": "GenerateDataKey", "decrypt": "Decrypt",
                                      "encrypt": "Encrypt"}[fn])
    conditioned = {}
    for st in tpl["Statement"]:
        for op, keys in st.get("Condition", {}).items():
            for key, value in keys.items():
                suffix = key[len(prefix):] if key.lower().startswith(prefix) else ""
                m = re.fullmatch(r"(ImageSha384|PCR([0-9]|[12][0-9]|3[01]))", suffix)
                check(m is not None and key.startswith("kms:RecipientAttestation:")
                      and (m.group(1) == "ImageSha384" or "PCR" in enforced),
                      f"{st['Sid']}: condition key {key} is one sigil-kms enforces")
                check(value == "${PCR0}", f"{st['Sid']}: {key} is the ${{PCR0}} placeholder")
            conditioned[st["Sid"]] = (st["Effect"], op, set(st["Action"]))
    allows = [v for v in conditioned.values() if v[0] == "Allow"]
    denies = [v for v in conditioned.values() if v[0] == "Deny"]
    check(len(allows) == 1 and allows[0][1] == "StringEqualsIgnoreCase" and allows[0][1] in operators,
          "the Allow uses StringEqualsIgnoreCase (an operator sigil-kms evaluates too)")
    check(len(allows) == 1 and allows[0][2] == enclave_ops,
          f"the Allow grants exactly what the enclave calls ({sorted(enclave_ops)})")
    check(len(denies) == 1 and denies[0][1] == "StringNot" + allows[0][1][len("String"):]
          and denies[0][2] == allows[0][2],
          "a Deny with the negated condition covers the same actions")
    uncond = [st for st in tpl["Statement"] if st["Effect"] == "Deny" and "Condition" not in st]
    check(any({"kms:Encrypt", "kms:ReEncrypt*", "kms:CreateGrant"} <= set(st["Action"]) for st in uncond),
          "the instance role can never Encrypt, ReEncrypt or CreateGrant (forged seeds, grants)")
    check(all(st["Principal"]["AWS"] == "${INSTANCE_ROLE_ARN}" for st in tpl["Statement"]
              if st["Effect"] == "Deny" or "Condition" in st), "data statements name the instance role")

    # --- flags exist in the binaries' usage text -----------------------------
    gw = subprocess.run([os.path.join(bindir, "sigil-gateway"), "--help"], capture_output=True, text=True)
    gw_flags = usage_flags(gw.stdout)
    used = {a for a in gw_argv if a.startswith("--")}
    check(gw.returncode == 0 and used <= gw_flags,
          f"gateway unit flags exist in sigil-gateway --help (missing: {sorted(used - gw_flags)})")
    en = subprocess.run([os.path.join(bindir, "sigil-enclave")], capture_output=True, text=True)
    en_flags = usage_flags(en.stderr)
    used = {a for a in entry if a.startswith("--")}
    check(en.returncode == 2 and used <= en_flags,
          f"Dockerfile ENTRYPOINT flags exist in sigil-enclave usage (missing: {sorted(used - en_flags)})")

    # --- pinned image inputs ---------------------------------------------------
    check(re.search(r"^ARG BASE_IMAGE=\S+@sha256:[0-9a-f]{64}$", dockerfile, re.M) is not None,
          "builder base image pinned by digest")
    check(re.search(r"^ARG DEBIAN_SNAPSHOT=\d{8}T\d{6}Z$", dockerfile, re.M) is not None,
          "Debian archive pinned by snapshot timestamp")
    install = re.search(r"apt-get install[^\n]*\\\n((?:\s+\S+ \\\n|\s+\S+;)+)", dockerfile)
    pkgs = install.group(1).replace("\\", " ").replace(";", " ").split() if install else []
    check(pkgs and all(re.fullmatch(r"[a-z0-9.+-]+=[0-9][\w.+:~-]*", p) for p in pkgs),
          "every apt package in the Dockerfile has an exact version")
    boot = read(os.path.join(root, "scripts", "bootstrap.sh"))
    build_pkgs = re.search(r"BUILD_PKGS=\(([^)]*)\)", boot).group(1).split()
    names = {p.split("=")[0] for p in pkgs}
    if "python3-minimal" in names:  # provides /usr/bin/python3, all CMake needs
        names.add("python3")
    check(set(build_pkgs) <= names, f"the image installs bootstrap's BUILD_PKGS "
          f"(missing: {sorted(set(build_pkgs) - names)})")
    check(re.search(r"^FROM scratch$", dockerfile, re.M) is not None, "the enclave image is FROM scratch")

    # --- docs cite real metric names ----------------------------------------------
    ops_doc = read(os.path.join(root, "docs", "OPERATIONS.md"))
    metrics_src = read(os.path.join(root, "src", "gateway", "metrics.c"))
    cited = set(re.findall(r"`(sigil_[a-z_]+)(?![a-z_.])", ops_doc))
    known = set(re.findall(r"(sigil_[a-z_]+)(?:\{| )", metrics_src))
    check(cited and cited <= known, f"OPERATIONS.md metric names exist in metrics.c "
          f"(unknown: {sorted(cited - known)})")

    # --- shellcheck ----------------------------------------------------------------
    scripts = sorted(glob.glob(os.path.join(nitro, "**", "*.sh"), recursive=True)
                     + glob.glob(os.path.join(root, "scripts", "*.sh")))
    if shutil.which("shellcheck") is None:
        print("SKIP  shellcheck not installed (scripts/bootstrap.sh --all installs it)")
    else:
        for s in scripts:
            r = subprocess.run(["shellcheck", "-x", s], capture_output=True, text=True)
            check(r.returncode == 0, f"shellcheck {os.path.relpath(s, root)}"
                  + ("" if r.returncode == 0 else "\n" + r.stdout.strip()))

    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all deploy constants consistent")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Install what `make run` and `make test` need on a fresh Debian machine:
# Debian's nginx and PostgreSQL (as root), then one virtualenv with every
# service. Fast when nothing changed: the venv is reinstalled only when a
# requirements or pyproject file changes.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v pg_ctl >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing ${missing[*]} from Debian" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d: don't start the system-wide nginx/postgresql services; we run our own.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  else
    echo "bootstrap: missing ${missing[*]}; install them (sudo apt-get install ${missing[*]}) and run again." >&2
    exit 1
  fi
fi

# Optional: docker-compose lets the tests check docker-compose.yml with `docker-compose config` (no engine
# needed). Best effort: without it that one test is skipped, the parsed-file checks still run.
if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1; } \
    || echo "bootstrap: docker-compose not available; its config check will be skipped" >&2
fi

# kubectl renders deploy/k8s (`kubectl kustomize`, offline) for tests/test_k8s.py: Debian's kubernetes-client when
# no kubectl is there. Best effort, as above: without it those checks are skipped, saying why.
if ! command -v kubectl >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null 2>&1; } \
    || echo "bootstrap: kubectl not available; the deploy/k8s checks will be skipped" >&2
fi

stamp_source=$(cat requirements/*.txt libs/common/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if [ ! -f ".venv/.installed-$stamp_source" ]; then
  echo "bootstrap: installing Python packages into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements/dev.txt
  rm -f .venv/.installed-*
  touch ".venv/.installed-$stamp_source"
fi

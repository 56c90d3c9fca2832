#!/bin/bash
# Installs the tools every image of the platform team carries. Upload next to the template's scriptUri.
set -euo pipefail
sudo apt-get install -y --no-install-recommends jq unzip ca-certificates curl

#!/usr/bin/env bash
# preflight: the tools `make test` needs besides Go, checked before anything
# compiles, so a missing one is named at once with the way to get it
# instead of failing minutes later with "Error 127" or a failed test.
#
# terraform, node and npm are needed by every run (tf-check, `make
# emulators`). moto_server, Google's Pub/Sub and Firestore emulators and
# java are needed by emulator tests: with EVENTRELAY_REQUIRE_EMULATORS=1
# (make test's default, and CI's) those tests fail without them, so they
# are required here too; otherwise those tests skip, and this only warns.
# The emulator paths are the ones the tests look at (internal/firestoreemu,
# functions/backfill/pubsubsource's seek test, internal/moto).
set -u

missing=()  # one line per missing tool: what, then how to get it
optional=() # the same, for tools whose tests would only skip

need() { missing+=("$1"); }
emulator() {
	if [ "${EVENTRELAY_REQUIRE_EMULATORS:-0}" = 1 ]; then
		missing+=("$1")
	else
		optional+=("$1")
	fi
}

have() { command -v "$1" >/dev/null 2>&1; }

have terraform || need "terraform (terraform fmt, make tf-check): go install github.com/hashicorp/terraform@v1.5.7, with \$(go env GOPATH)/bin on PATH (.ci/run does this itself)"
have node || need "node (Node.js, runs the npm DynamoDB and Firestore emulators): apt-get install nodejs (Debian) or https://nodejs.org"
have npm || need "npm (installs emulators/package.json): apt-get install npm (Debian) or https://nodejs.org"

moto=${MOTO_SERVER:-moto_server}
have "$moto" || emulator "moto_server (moto 5.2.1, the SQS backfill tests): pip install 'moto[server]==5.2.1', or set MOTO_SERVER to its path (MOTO_SERVER=${MOTO_SERVER:-unset})"

sdk=/usr/lib/google-cloud-sdk
[ -x "$sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator" ] ||
	emulator "Google's Pub/Sub emulator ($sdk/platform/pubsub-emulator): apt-get install google-cloud-cli-pubsub-emulator from Google Cloud's apt repository (https://cloud.google.com/sdk/docs/install#deb)"
if [ ! -e "$sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator" ] &&
	[ ! -e /google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator ]; then
	emulator "Google's Firestore emulator ($sdk/platform/cloud-firestore-emulator): apt-get install google-cloud-cli-firestore-emulator from Google Cloud's apt repository (https://cloud.google.com/sdk/docs/install#deb)"
fi
have java || emulator "java (runs Google's Pub/Sub and Firestore emulators): apt-get install default-jre-headless (Debian)"

for line in "${optional[@]+"${optional[@]}"}"; do
	echo "preflight: missing, so its tests will skip (EVENTRELAY_REQUIRE_EMULATORS is not 1): $line" >&2
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "make test: ${#missing[@]} tool(s) missing; install them, then run it again:" >&2
	for line in "${missing[@]}"; do
		echo "  - $line" >&2
	done
	exit 1
fi
echo "preflight: terraform, node, npm$( [ ${#optional[@]} -eq 0 ] && echo ", moto_server, Google's Pub/Sub and Firestore emulators, java"): found"

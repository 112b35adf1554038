#!/bin/sh
# with-build-ca.sh COMMAND...: run COMMAND trusting the extra CA certificates in $EXTRA_CA_CERTS (PEM text), if any.
# Used only while building the image, for networks whose HTTPS goes through an intercepting proxy; the certificates
# are written to a temporary folder that is deleted afterwards, so the image itself never trusts them.
set -eu
if [ -z "${EXTRA_CA_CERTS:-}" ]; then
    exec "$@"
fi
dir="$(mktemp -d)"
printf '%s\n' "$EXTRA_CA_CERTS" >"$dir/extra.pem"
cat /etc/ssl/certs/ca-certificates.crt "$dir/extra.pem" >"$dir/bundle.pem"
status=0
PIP_CERT="$dir/bundle.pem" SSL_CERT_FILE="$dir/bundle.pem" REQUESTS_CA_BUNDLE="$dir/bundle.pem" \
    NODE_EXTRA_CA_CERTS="$dir/extra.pem" "$@" || status=$?
rm -rf "$dir"
exit "$status"

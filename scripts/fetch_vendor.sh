#!/usr/bin/env bash
# Fetch the GraphiQL playground assets into gateway/vendor/playground/.
#
# The playground must work offline and where public CDNs are blocked, so jimu
# serves these files itself. Versions and npm integrity hashes are pinned here;
# the script refuses a tarball whose hash differs. Run it to upgrade, then commit.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/gateway/vendor/playground"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name@version  sha512 integrity as npm reports it
pins=(
  "react@18.3.1 sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
  "react-dom@18.3.1 sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw=="
  "graphiql@3.8.3 sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw=="
)
# package  file inside the tarball  name served under /playground/
files=(
  "react package/umd/react.production.min.js react.production.min.js"
  "react package/LICENSE LICENSE.react"
  "react-dom package/umd/react-dom.production.min.js react-dom.production.min.js"
  "react-dom package/LICENSE LICENSE.react-dom"
  "graphiql package/graphiql.min.js graphiql.min.js"
  "graphiql package/graphiql.min.css graphiql.min.css"
  "graphiql package/LICENSE LICENSE.graphiql"
)

mkdir -p "$dest"
for pin in "${pins[@]}"; do
  spec=${pin%% *}; want=${pin#* }
  name=${spec%@*}
  (cd "$work" && npm pack --silent "$spec" >/dev/null 2>&1)
  tarball=$(ls "$work"/"$name"-*.tgz)
  got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$got" != "$want" ]; then
    echo "integrity mismatch for $spec: $got" >&2
    exit 1
  fi
  mkdir -p "$work/$name" && tar -xzf "$tarball" -C "$work/$name"
done
for entry in "${files[@]}"; do
  read -r name inner served <<<"$entry"
  cp "$work/$name/$inner" "$dest/$served"
done
printf '%s\n' "${pins[@]}" | cut -d' ' -f1 > "$dest/VERSIONS"
echo "playground assets written to $dest"

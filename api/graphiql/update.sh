#!/usr/bin/env bash
# Refreshes the embedded GraphiQL assets from the npm registry.
# Usage: api/graphiql/update.sh [graphiql-version] [react-version]
set -euo pipefail
cd "$(dirname "$0")"
gv=${1:-3.9.0}
rv=${2:-18.3.1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "graphiql@$gv" "react@$rv" "react-dom@$rv" >/dev/null)
for f in "$tmp"/*.tgz; do
	d="$tmp/$(basename "$f" .tgz)"
	mkdir -p "$d" && tar xzf "$f" -C "$d"
done
cp "$tmp/graphiql-$gv/package/graphiql.min.js" "$tmp/graphiql-$gv/package/graphiql.min.css" assets/
cp "$tmp/graphiql-$gv/package/LICENSE" assets/LICENSE.graphiql
cp "$tmp/react-$rv/package/umd/react.production.min.js" assets/
cp "$tmp/react-$rv/package/LICENSE" assets/LICENSE.react
cp "$tmp/react-dom-$rv/package/umd/react-dom.production.min.js" assets/
cp "$tmp/react-dom-$rv/package/LICENSE" assets/LICENSE.react-dom
# The source map is not shipped.
sed -i 's#//\# sourceMappingURL=.*##' assets/graphiql.min.js
echo "GraphiQL $gv, React $rv"

#!/usr/bin/env bash
# Installs the real data files Gatehouse's tests (and its default geo setup) use, from package
# registries, into data/geoip/ (not committed; see data/geoip/ATTRIBUTION.md):
#
#   data/geoip/geo-whois-asn-country.mmdb   npm @ip-location-db/geo-whois-asn-country-mmdb
#                                            (CC BY 4.0, NRO): the default country database
#   data/geoip/test/*.mmdb                   MaxMind's official test databases, from the PyPI
#                                            `maxminddb` source package (Apache-2.0 / MIT)
#
# Idempotent: files already present are kept. Needs npm and python3 (pip).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
GEO="$ROOT/data/geoip"
NPM_PACKAGE="@ip-location-db/geo-whois-asn-country-mmdb"
NPM_VERSION="2.3.2026061719"
PYPI_VERSION="3.2.0"
mkdir -p "$GEO/test"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ ! -s "$GEO/geo-whois-asn-country.mmdb" ]]; then
    echo "    installing $NPM_PACKAGE@$NPM_VERSION (npm)"
    (cd "$work" && npm install --silent --no-audit --no-fund --no-save "$NPM_PACKAGE@$NPM_VERSION" >/dev/null)
    pkg="$work/node_modules/$NPM_PACKAGE"
    cp "$pkg/geo-whois-asn-country.mmdb" "$GEO/geo-whois-asn-country.mmdb.tmp"
    cp "$pkg/NRO_LICENSE" "$GEO/NRO_LICENSE"
    mv "$GEO/geo-whois-asn-country.mmdb.tmp" "$GEO/geo-whois-asn-country.mmdb"
else
    echo "    present: data/geoip/geo-whois-asn-country.mmdb"
fi

if [[ ! -s "$GEO/test/GeoIP2-Country-Test.mmdb" ]]; then
    echo "    installing MaxMind test databases (PyPI maxminddb==$PYPI_VERSION source package)"
    python3 -m pip download --quiet --no-binary :all: --no-deps "maxminddb==$PYPI_VERSION" -d "$work/sdist"
    tar -xzf "$work"/sdist/maxminddb-*.tar.gz -C "$work"
    src="$(echo "$work"/maxminddb-*/tests/data)"
    for f in GeoIP2-Country-Test.mmdb GeoLite2-Country-Test.mmdb GeoIP2-City-Test.mmdb; do
        cp "$src/test-data/$f" "$GEO/test/$f"
    done
    for f in LICENSE-APACHE LICENSE-MIT LICENSE; do
        [[ -f "$src/$f" ]] && cp "$src/$f" "$GEO/test/$f"
    done
    if [[ -d "$src/source-data" ]]; then
        cp "$src/source-data/GeoIP2-Country-Test.json" "$GEO/test/" 2>/dev/null || true
    fi
else
    echo "    present: data/geoip/test/GeoIP2-Country-Test.mmdb"
fi
ls -la "$GEO" "$GEO/test" | sed 's/^/    /'

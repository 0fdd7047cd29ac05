#!/usr/bin/env bash
# Fetch a Debian binary package and unpack it into Vireo's cache (never into git).
#   scripts/fetch-deb.sh PACKAGE[:ARCH]   prints the folder it is unpacked in
# The cache is $VIREO_CACHE (default ~/.cache/vireo); a package already unpacked
# there is not fetched again.  Uses only apt-get download + dpkg -x.
set -eu
pkg=$1
cache=${VIREO_CACHE:-$HOME/.cache/vireo}
debs=$cache/debs
mkdir -p "$debs"
# Resolve the version apt would install now, so a newer package lands in a new folder.
version=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    version=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    echo "fetch-deb: no Debian package named '$pkg'" >&2
    exit 1
fi
dest=$cache/pkgs/${pkg//:/_}_${version//:/_}
if [ ! -f "$dest/.unpacked" ]; then
    (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$version" >/dev/null 2>&1) || {
        echo "fetch-deb: apt-get download $pkg=$version failed" >&2
        exit 1
    }
    deb=$(ls -t "$debs"/"${pkg%%:*}"_*.deb | head -n 1)
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    dpkg -x "$deb" "$dest.tmp"
    rm -rf "$dest" && mv "$dest.tmp" "$dest"
    touch "$dest/.unpacked"
fi
echo "$dest"

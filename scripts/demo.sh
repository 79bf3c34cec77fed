#!/usr/bin/env bash
# Makes a real film offline with the built-in providers: installs what is missing, builds lvctl and
# lvserver, makes an API key for the demo (once), and runs `lvctl generate` with a progress bar.  Prints
# the MP4's path.  The key stays private to you (mode 0600); the films are readable like any file you make.
#
#   scripts/demo.sh                              # "城市清晨的延时风光", 30 s
#   scripts/demo.sh "A lighthouse in a storm" 20 # your prompt and duration (3-180 s)
#
# Environment: LV_DEMO_DIR (default demo/) holds the store, the media and the films.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
lv_install_deps

prompt="${1:-城市清晨的延时风光}"
duration="${2:-30}"
dir="${LV_DEMO_DIR:-demo}"
jobs=$(nproc 2>/dev/null || echo 2)

echo "== building lvctl and lvserver" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" --target lvctl lvserver >/dev/null

lvctl() { build/bin/lvctl --data-dir "$dir/data" "$@"; }
mkdir -p "$dir/films" "$dir/data"
keyfile="$dir/data/demo.key"
if [ ! -s "$keyfile" ]; then
  # Only the key file is private; a umask for the whole script would make the films unreadable to others.
  (umask 077 && lvctl keys create --name demo --credits 100000 2>/dev/null | head -n 1 > "$keyfile")
fi

echo "== generating a ${duration} s film: $prompt" >&2
film=$(lvctl --key-file "$keyfile" generate --prompt "$prompt" --duration "$duration" \
         --output "$dir/films/film-$(date +%Y%m%d-%H%M%S).mp4")
echo "$film"
echo "== next: the API server on the same store (key in $keyfile):" >&2
echo "   build/bin/lvserver --data-dir $dir/data --listen 127.0.0.1:8080" >&2

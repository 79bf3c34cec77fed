#!/usr/bin/env bash
# Install into a temporary prefix, then build the example against it every way a consumer would:
#   1. pkg-config, shared library;   2. pkg-config --static, the static library;
#   3. the CMake package, longvideo::longvideo (shared) and longvideo::longvideo_static;
#   4. a static-only build of the library (BUILD_SHARED_LIBS=OFF): its package still defines
#      longvideo::longvideo.
# Every program must run and print the right estimate.
set -euo pipefail
src="$1"; build="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)

check() { # check NAME EXPECTED PROGRAM ARGS...  (EXPECTED: a grep pattern; stderr is shown on failure only)
  local name="$1" want="$2" out; shift 2
  out=$(cd "$tmp" && "$@" 2>"$tmp/stderr") || { echo "FAIL: $name exited non-zero: $out"; tail -20 "$tmp/stderr"; exit 1; }
  echo "$out" | grep -q "$want" || { echo "FAIL: $name printed: $out"; exit 1; }
  echo "ok: $name"
}

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pcdir=$(find "$tmp/prefix" -name 'longvideo.pc' -printf '%h\n' | head -1)
test -n "$pcdir" || { echo "FAIL: longvideo.pc was not installed"; exit 1; }
test -f "$tmp/prefix/include/longvideo.h" || { echo "FAIL: headers were not installed"; exit 1; }
libdir=$(dirname "$pcdir")

# The programs' manual pages and lvctl's bash completion, when the programs are installed.
if [ -x "$tmp/prefix/bin/lvctl" ]; then
  for page in share/man/man1/lvctl.1 share/man/man8/lvserver.8; do
    test -f "$tmp/prefix/$page" || { echo "FAIL: $page was not installed"; exit 1; }
    # groff's warnings (-ww) and man's own: a page that renders with any is a failure.
    warn=$( { groff -man -ww -z "$tmp/prefix/$page"; LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$tmp/prefix/$page" >/dev/null; } 2>&1)
    [ -z "$warn" ] || { echo "FAIL: $page renders with warnings:"; echo "$warn"; exit 1; }
    LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$tmp/prefix/$page" 2>/dev/null | grep -q "^NAME" ||
      { echo "FAIL: $page does not render"; exit 1; }
  done
  comp="$tmp/prefix/share/bash-completion/completions/lvctl"
  test -f "$comp" || { echo "FAIL: the bash completion of lvctl was not installed"; exit 1; }
  got=$(LD_LIBRARY_PATH="$libdir" bash -c 'source "$1"; COMP_WORDS=("$2" g); COMP_CWORD=1; _lvctl; echo "${COMPREPLY[*]}"; COMP_WORDS=("$2" gc --dry); COMP_CWORD=2; _lvctl; echo "${COMPREPLY[*]}"' _ "$comp" "$tmp/prefix/bin/lvctl")
  [ "$got" = "$(printf 'get generate gc\n--dry-run')" ] || { echo "FAIL: lvctl completion offered: $got"; exit 1; }
  echo "ok: man pages lvctl(1), lvserver(8) and the bash completion are installed and work"
fi
test -f "$libdir/liblongvideo.a" || { echo "FAIL: the static library was not installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir"

# 1. pkg-config, shared.
cc -std=c11 -Wall -Werror "$src/examples/estimate.c" $(pkg-config --cflags --libs longvideo) -o "$tmp/estimate"
check "pkg-config (shared)" "cost_estimate: 1650 credits" env LD_LIBRARY_PATH="$libdir" ./estimate 60 720p

# 2. The static library through pkg-config.  `--static` must name every library it needs; Debian ships
#    its dependencies (FFmpeg, curl) as shared libraries only, so they are linked dynamically here:
#    the static liblongvideo plus the shared libraries of the packages its .pc file requires.
static_flags=$(pkg-config --static --libs longvideo)
for l in -lcurl -lcjson -lsqlite3 -lcrypto -lavformat -lavcodec -lavfilter -lavutil -lswscale -lswresample -lm; do
  case " $static_flags " in *" $l "*) ;; *) echo "FAIL: pkg-config --static --libs longvideo lacks $l"; exit 1;; esac
done
own_private=$(sed -n 's/^Libs.private: *//p' "$pcdir/longvideo.pc")
cc -std=c11 -Wall -Werror "$src/examples/estimate.c" $(pkg-config --cflags longvideo) -L"$libdir" \
   -Wl,-Bstatic -llongvideo -Wl,-Bdynamic \
   $(pkg-config --libs $(pkg-config --print-requires-private longvideo | awk '{print $1}')) $own_private \
   -o "$tmp/estimate-static"
if ldd "$tmp/estimate-static" | grep -q liblongvideo; then
  echo "FAIL: the static build still loads liblongvideo.so"; exit 1
fi
check "pkg-config, static library" "cost_estimate: 1650 credits" ./estimate-static 60 720p

# 3. The CMake package: both targets.
for target in longvideo longvideo_static; do
  cmake -S "$src/examples" -B "$tmp/ex-$target" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
        -DLV_EXAMPLE_TARGET="longvideo::$target" >/dev/null
  cmake --build "$tmp/ex-$target" --target estimate >/dev/null
  check "CMake longvideo::$target" "cost_estimate: 82.5 credits" "$tmp/ex-$target/estimate" 3 720p
done

# 3b. The composition building block, as a C program would use it: clips made here with ffmpeg, the
#     film read back with ffprobe.
cmake --build "$tmp/ex-longvideo" --target compose_clips >/dev/null
ffmpeg -v error -f lavfi -i testsrc=size=320x240:rate=24 -t 2 -pix_fmt yuv420p "$tmp/c1.mp4"
ffmpeg -v error -f lavfi -i smptebars=size=320x240:rate=30 -t 1.5 "$tmp/c2.mov"
ffmpeg -v error -f lavfi -i "sine=f=330:d=1" "$tmp/voice.wav"
printf '1\n00:00:00,200 --> 00:00:01,500\nHello\n\n2\n00:00:02,000 --> 00:00:03,300\nWorld\n' > "$tmp/cues.srt"
mkdir -p "$tmp/film"
check "compose_clips (CMake)" "duration: 3.500 s" "$tmp/ex-longvideo/compose_clips" "$tmp/film" \
  --voice "$tmp/voice.wav@0.5" --srt "$tmp/cues.srt" "$tmp/c1.mp4" "$tmp/c2.mov"
streams=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$tmp/film/final.mp4" | tr '\n' ' ')
[ "$streams" = "h264 aac mov_text " ] || { echo "FAIL: compose_clips wrote streams: $streams"; exit 1; }

# 3c. Provider calls: a storyboard from the built-in provider's config block, read back as JSON.
cmake --build "$tmp/ex-longvideo" --target storyboard >/dev/null
check "storyboard (CMake)" '"shots":\[{"index":0,"duration":7' "$tmp/ex-longvideo/storyboard" \
  "A lighthouse keeper befriends a storm" 20
shots=$(cd "$tmp" && "$tmp/ex-longvideo/storyboard" "A paper boat" 20 2>/dev/null | grep -o '"index":' | wc -l)
[ "$shots" = 3 ] || { echo "FAIL: storyboard wrote $shots shots for 20 s, not 3"; exit 1; }

# 3d. A provider type written in a program, named in its engine's config, used by a whole pipeline run
#     from prompt to film; the film read back with ffprobe.
cmake --build "$tmp/ex-longvideo" --target custom_provider >/dev/null
mkdir -p "$tmp/custom"
check "custom_provider (CMake)" "film: $tmp/custom/film.mp4 (6 s, 6 credits)" \
  "$tmp/ex-longvideo/custom_provider" "$tmp/custom" "$tmp/custom/film.mp4"
streams=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$tmp/custom/film.mp4" | tr '\n' ' ')
[ "$streams" = "h264 aac mov_text " ] || { echo "FAIL: custom_provider wrote streams: $streams"; exit 1; }
length=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/custom/film.mp4")
awk -v d="$length" 'BEGIN { exit !(d > 5.9 && d < 6.1) }' || { echo "FAIL: custom_provider's film lasts $length s"; exit 1; }

# 3e. A storage type written in a program, named in its engine's config, holding every artifact of a
#     whole run; the film (read back through it) checked with ffprobe, and the type's own directory
#     holding the objects under its own names.
cmake --build "$tmp/ex-longvideo" --target custom_storage >/dev/null
mkdir -p "$tmp/shelfdata"
check "custom_storage (CMake)" "film: $tmp/shelfdata/film.mp4 (6 s), objects on the shelf $tmp/shelfdata/objects" \
  "$tmp/ex-longvideo/custom_storage" "$tmp/shelfdata" "$tmp/shelfdata/film.mp4"
streams=$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$tmp/shelfdata/film.mp4" | tr '\n' ' ')
[ "$streams" = "h264 aac mov_text " ] || { echo "FAIL: custom_storage wrote streams: $streams"; exit 1; }
length=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/shelfdata/film.mp4")
awk -v d="$length" 'BEGIN { exit !(d > 5.9 && d < 6.1) }' || { echo "FAIL: custom_storage's film lasts $length s"; exit 1; }
published=$(find "$tmp/shelfdata/objects" -maxdepth 1 -name 'media+*.mp4' | head -1)
[ -n "$published" ] || { echo "FAIL: no published film on the example's shelf"; ls "$tmp/shelfdata/objects"; exit 1; }
cmp -s "$published" "$tmp/shelfdata/film.mp4" || { echo "FAIL: the saved film is not the shelf's object"; exit 1; }
[ "$(cat "$published.type")" = "video/mp4" ] || { echo "FAIL: the shelf kept no Content-Type for the film"; exit 1; }
[ "$(find "$tmp/shelfdata/objects" -maxdepth 1 -name 'tasks+*' | wc -l)" -gt 3 ] ||
  { echo "FAIL: the task's working artifacts did not reach the example's shelf"; exit 1; }
[ ! -e "$tmp/shelfdata/media" ] || { echo "FAIL: the built-in local storage was used beside the example's"; exit 1; }

# 4. A static-only library build and install.
#    With the compiler launcher (ccache) of the build under test, when it has one.
launcher=$(sed -n 's/^CMAKE_C_COMPILER_LAUNCHER:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
cmake -S "$src" -B "$tmp/static-build" -DBUILD_SHARED_LIBS=OFF -DLV_BUILD_TESTS=OFF -DLV_BUILD_BENCH=OFF \
      -DLV_BUILD_PROGRAMS=OFF -DCMAKE_BUILD_TYPE=Release ${launcher:+-DCMAKE_C_COMPILER_LAUNCHER=$launcher} >/dev/null
cmake --build "$tmp/static-build" -j"$jobs" >/dev/null
cmake --install "$tmp/static-build" --prefix "$tmp/static-prefix" >/dev/null
if find "$tmp/static-prefix" -name 'liblongvideo.so*' | grep -q .; then
  echo "FAIL: a static-only build installed a shared library"; exit 1
fi
cmake -S "$src/examples" -B "$tmp/ex-static-only" -DCMAKE_PREFIX_PATH="$tmp/static-prefix" >/dev/null
cmake --build "$tmp/ex-static-only" --target estimate >/dev/null
check "static-only install, longvideo::longvideo" "cost_estimate: 82.5 credits" "$tmp/ex-static-only/estimate" 3 720p
echo "install: shared, static, pkg-config (--static too) and CMake package consumers build and run"

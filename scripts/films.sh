#!/usr/bin/env bash
# Renders a set of films offline with the built-in providers, for review: the demo, a lighthouse in a
# storm, a 9:16 and a 1:1 film with burned subtitles, a 180 s 1080p film, and films in French and
# German.  For each film NAME it writes into OUT_DIR (default films/):
#
#   NAME.mp4          the film
#   NAME.json         the task object (lvctl --json get): storyboard, shots, qc
#   NAME.qc.json      the quality report (the task's qc)
#   NAME.txt          the storyboard, one block per shot: time, camera, visual, narration
#   NAME.sheet.png    a contact sheet: the frame from the middle of every shot, numbered, in order
#
# and prints one summary line per film (loudness, true peak, speech coverage, pass/fail).
#
#   scripts/films.sh                 # every film into films/
#   scripts/films.sh out demo ada    # only the films named (demo ada tall square tomas fr de)
#   LV_FILMS_SHORT=1 scripts/films.sh out tomas fr de   # the 180 s films at 30 s (a quick look)
#   LV_FILMS_NO_BUILD=1 scripts/films.sh                 # use build/bin/lvctl as it is
#
# The store (keys, tasks, media) is OUT_DIR/data; a rerun makes new tasks and overwrites the files.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
lv_install_deps

out="${1:-films}"
[ $# -gt 0 ] && shift
only=("$@")
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -x build/bin/lvctl ] || [ -z "${LV_FILMS_NO_BUILD:-}" ]; then
  echo "== building lvctl" >&2
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$jobs" --target lvctl >/dev/null
fi

mkdir -p "$out/data"
lvctl() { build/bin/lvctl --data-dir "$out/data" "$@"; }
keyfile="$out/data/films.key"
if [ ! -s "$keyfile" ]; then
  (umask 077 && lvctl keys create --name films --credits 10000000 2>/dev/null | head -n 1 > "$keyfile")
fi

long=180
[ -n "${LV_FILMS_SHORT:-}" ] && long=30

# name | duration | options | prompt
films=(
  "demo|30||城市清晨的延时风光"
  "ada|30||A lighthouse keeper named Ada watches a storm roll in"
  "tall|20|--aspect-ratio 9:16 --subtitles burn|一只叫花花的小猫在雨天的窗台上等主人回家"
  "square|20|--aspect-ratio 1:1 --subtitles burn|Two robots, Bolt and Pixel, build a snowman in a quiet park at night"
  "tomas|$long|--resolution 1080p|An old fisherman named Tomas sails out at dawn for one last catch before the winter storms"
  "fr|$long||Un vieux pêcheur nommé Tomas part en mer à l'aube et rentre au port le soir"
  "de|$long||Ein Mädchen namens Greta sucht im Wald ihren verlorenen Hund, bis die Sonne untergeht"
)

wanted() {
  local n
  [ ${#only[@]} -eq 0 ] && return 0
  for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

# The frame from the middle of every shot, labelled with the shot's number, tiled in rows of four.
contact_sheet() {
  local film=$1 task=$2 sheet=$3 tmp n i t cols rows
  tmp=$(mktemp -d)
  n=$(jq '.shots | length' "$task")
  for ((i = 0; i < n; i++)); do
    t=$(jq -r ".shots[$i] | .start + .duration / 2" "$task")
    ffmpeg -nostdin -loglevel error -ss "$t" -i "$film" -frames:v 1 \
      -vf "scale=480:480:force_original_aspect_ratio=decrease,drawtext=text='$((i + 1))':x=12:y=10:fontsize=28:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6" \
      "$tmp/$(printf %03d "$i").png"
  done
  cols=$((n < 4 ? n : 4))
  rows=$(((n + cols - 1) / cols))
  ffmpeg -nostdin -loglevel error -y -framerate 1 -i "$tmp/%03d.png" \
    -vf "tile=${cols}x${rows}:padding=4:margin=4:color=0x202020" -frames:v 1 "$sheet"
  rm -rf "$tmp"
}

for entry in "${films[@]}"; do
  IFS='|' read -r name duration opts prompt <<<"$entry"
  wanted "$name" || continue
  echo "== $name: ${duration} s $opts: $prompt" >&2
  # shellcheck disable=SC2086 # the options are words
  lvctl --json --key-file "$keyfile" generate --quiet --prompt "$prompt" --duration "$duration" $opts \
    --output "$out/$name.mp4" > "$out/$name.json"
  id=$(jq -r .task_id "$out/$name.json")
  lvctl --json --key-file "$keyfile" get "$id" > "$out/$name.json"
  jq '.qc' "$out/$name.json" > "$out/$name.qc.json"
  jq -r '.script as $s | .shots[] as $t | $s.shots[$t.index] as $x |
         "Shot \($t.index + 1) (\($t.start)-\($t.start + $t.duration) s, \($x.camera // "")): \($x.visual)\n" +
         "  narration: \($x.narration // "")\n"' "$out/$name.json" > "$out/$name.txt"
  contact_sheet "$out/$name.mp4" "$out/$name.json" "$out/$name.sheet.png"
  jq -r --arg n "$name" '.qc as $q |
    "\($n): \(if $q.pass then "pass" else "FAIL \($q.failed | join(","))" end), " +
    "\($q.loudness_lufs.value) LUFS, \($q.true_peak_dbtp.value) dBTP, speech \(($q.speech_coverage.value * 100 | round))%, " +
    "ducking \($q.ducking_db.value // "-") dB"' "$out/$name.json"
done

#!/usr/bin/env bash
# Every public header compiles on its own as strict C11 (and as C++), and no dependency type leaks into them.
set -euo pipefail
src="$1"
cc="${CC:-cc}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for h in "$src"/include/longvideo.h "$src"/include/longvideo/*.h "$src"/include/longvideo/sys/*.h; do
  [ -f "$h" ] || continue
  rel=${h#"$src"/include/}
  printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$rel" "$rel" > "$tmp/t.c"
  if ! "$cc" -std=c11 -pedantic -Werror -Wall -Wextra -I"$src/include" -c "$tmp/t.c" -o "$tmp/t.o"; then
    echo "FAIL: $rel does not compile alone as C11"; status=1
  fi
  if command -v g++ >/dev/null 2>&1; then
    cp "$tmp/t.c" "$tmp/t.cpp"
    if ! g++ -std=c++11 -pedantic -Werror -Wall -I"$src/include" -c "$tmp/t.cpp" -o "$tmp/t.o"; then
      echo "FAIL: $rel does not compile alone as C++"; status=1
    fi
  fi
  if grep -nE '\b(sqlite3|CURL|CURLM|cJSON|AV[A-Z][A-Za-z]+|mg_[a-z_]+|EVP_[A-Z]+|pthread_[a-z_]+)\b' "$h"; then
    echo "FAIL: $rel names a dependency type"; status=1
  fi
done
[ $status -eq 0 ] && echo "all public headers compile alone and name no dependency type"
exit $status

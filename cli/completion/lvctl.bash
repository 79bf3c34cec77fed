# bash completion for lvctl.  The commands and each command's options are read from lvctl's own
# --help output (once per shell), so they follow the installed program.
_lvctl_words() { # _lvctl_words CMD: the options of CMD (or the commands, with no CMD)
  local key="_lvctl_cache_${1//-/_}"
  if [[ -z ${!key+set} ]]; then
    local words
    if [[ -z $1 ]]; then
      words=$("${_lvctl_bin:-lvctl}" --help 2>/dev/null | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p')
      words+=" help"
    else
      words=$("${_lvctl_bin:-lvctl}" "$1" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)
    fi
    printf -v "$key" '%s' "$(echo $words)"
  fi
  printf '%s' "${!key}"
}

_lvctl() {
  local cur prev cmd i
  _lvctl_bin=${COMP_WORDS[0]}
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    --config|--key-file|--output|-o|--clip|--voice|--music|--srt|--image|--file)
      COMPREPLY=($(compgen -f -- "$cur")); return;;
    --data-dir|--out)
      COMPREPLY=($(compgen -d -- "$cur")); return;;
    --resolution) COMPREPLY=($(compgen -W "720p 1080p" -- "$cur")); return;;
    --aspect-ratio) COMPREPLY=($(compgen -W "16:9 9:16 1:1" -- "$cur")); return;;
    --subtitles) COMPREPLY=($(compgen -W "soft burn none" -- "$cur")); return;;
    --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return;;
  esac
  # The command: the first word that is not an option or an option's value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --config|--data-dir|--key-file|--public-url) ((i++));;
      -*) ;;
      *) cmd=${COMP_WORDS[i]}; break;;
    esac
  done
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "--config --data-dir --key-file --public-url --json --help --version" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$(_lvctl_words '')" -- "$cur"))
    fi
    return
  fi
  case $cmd in
    help) COMPREPLY=($(compgen -W "$(_lvctl_words '')" -- "$cur")); return;;
    keys) if ((COMP_CWORD == i + 1)); then COMPREPLY=($(compgen -W "create list grant revoke" -- "$cur")); return; fi;;
    store) if ((COMP_CWORD == i + 1)); then COMPREPLY=($(compgen -W "migrate verify" -- "$cur")); return; fi;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_lvctl_words "$cmd")" -- "$cur"))
  fi
}
complete -o default -F _lvctl lvctl

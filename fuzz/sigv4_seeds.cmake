# Writes the SigV4 known-answer cases (tests/data/sigv4/<case>/, see the
# README there) as seeds of sigv4_fuzz, one file per case, in the input
# format of sigv4_fuzz.cc: a line with the service and the option words of
# context.txt (and "session-token" when the case has one), then request.txt
# with its request line as "<METHOD> <url>" and the rest (headers, empty
# line, body) as it is. The fuzz target signs with credentials, a region and
# a time of its own, so those are left out.
#
#   cmake -DCASES=<folder of cases> -DOUT=<folder of seeds> -P sigv4_seeds.cmake
#
# OUT is emptied first. A case that cannot be read stops the build, naming
# the file.
cmake_minimum_required(VERSION 3.25)

if(NOT CASES OR NOT OUT)
  message(FATAL_ERROR "usage: cmake -DCASES=<folder> -DOUT=<folder> -P sigv4_seeds.cmake")
endif()

function(case_error dir file problem)
  message(FATAL_ERROR "${dir}/${file}: ${problem}")
endfunction()

file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
file(GLOB names LIST_DIRECTORIES true RELATIVE ${CASES} ${CASES}/*)
list(SORT names)
set(count 0)
foreach(name IN LISTS names)
  set(dir ${CASES}/${name})
  if(NOT IS_DIRECTORY ${dir} OR name MATCHES "^\\.")
    continue()
  endif()
  foreach(file request.txt context.txt)
    if(NOT EXISTS ${dir}/${file})
      case_error(${dir} ${file} "missing")
    endif()
  endforeach()
  file(READ ${dir}/request.txt request)
  file(READ ${dir}/context.txt context)

  # The request line, and the rest from its line break on.
  string(FIND "${request}" "\n" eol)
  if(eol EQUAL -1)
    set(line "${request}")
    set(rest "")
  else()
    string(SUBSTRING "${request}" 0 ${eol} line)
    string(SUBSTRING "${request}" ${eol} -1 rest)
  endif()
  if(NOT line MATCHES "^([^ ]+) (.+) HTTP/1\\.1$")
    case_error(${dir} request.txt "line 1: not a request line (METHOD target HTTP/1.1)")
  endif()
  set(method "${CMAKE_MATCH_1}")
  set(target "${CMAKE_MATCH_2}")
  if(target MATCHES "^/")
    # A path: the URL's host is the Host header's, which is in the headers,
    # before the first empty line.
    string(FIND "${rest}" "\n\n" head_end)
    string(SUBSTRING "${rest}" 0 ${head_end} head)
    if(NOT "${head}\n" MATCHES "\n[Hh][Oo][Ss][Tt]: ?([^\n]+)\n")
      case_error(${dir} request.txt "line 1: a target that is a path needs a Host header")
    endif()
    set(url "https://${CMAKE_MATCH_1}${target}")
  elseif(target MATCHES "://")
    set(url "${target}")
  else()
    case_error(${dir} request.txt "line 1: the target is neither a path nor an absolute URL")
  endif()

  if(NOT "\n${context}" MATCHES "\n[ \t]*service[ \t]*:[ \t]*([^ \t\n]+)")
    case_error(${dir} context.txt "no \"service\"")
  endif()
  set(options_line "${CMAKE_MATCH_1}")
  if("\n${context}" MATCHES "\n[ \t]*options[ \t]*:([^\n]*)")
    string(REGEX REPLACE "[ \t]+" " " words "${CMAKE_MATCH_1}")
    string(STRIP "${words}" words)
    if(NOT words STREQUAL "")
      string(APPEND options_line " ${words}")
    endif()
  endif()
  if("\n${context}" MATCHES "\n[ \t]*session-token[ \t]*:")
    string(APPEND options_line " session-token")
  endif()

  file(WRITE ${OUT}/${name}.txt "${options_line}\n${method} ${url}${rest}")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "no case folders in ${CASES}")
endif()

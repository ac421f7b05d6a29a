# SigV4 against data and against an independent signer. The known-answer
# cases live in tests/data/sigv4/, one folder each: sigv4_test checks our
# signer against every one of them, and sigv4_crosscheck.py checks that
# botocore agrees with them too. The cross-check also generates a few
# hundred varied requests, signs them with botocore, and compares with
# sigv4_tool (our signer behind a JSON-lines interface). It is skipped
# (exit 77) when botocore is not installed.
include_guard(GLOBAL)

set(KC_SIGV4_CASES ${PROJECT_SOURCE_DIR}/tests/data/sigv4)
target_compile_definitions(sigv4_test PRIVATE KC_SIGV4_CASES="${KC_SIGV4_CASES}")

add_executable(sigv4_tool ${CMAKE_CURRENT_LIST_DIR}/sigv4_tool.cc)
target_link_libraries(sigv4_tool PRIVATE kc simdjson::simdjson)

# Debian's interpreter first: that is where python3-botocore installs.
find_program(KC_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT KC_PYTHON3)
  find_program(KC_PYTHON3 NAMES python3)
endif()

if(KC_PYTHON3)
  add_test(NAME sigv4_crosscheck
           COMMAND ${KC_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/sigv4_crosscheck.py
                   --tool $<TARGET_FILE:sigv4_tool> --cases ${KC_SIGV4_CASES})
  set_tests_properties(sigv4_crosscheck PROPERTIES
    LABELS unit
    SKIP_RETURN_CODE 77
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1"
    TIMEOUT 300)
else()
  message(STATUS "python3 not found: the sigv4_crosscheck test is not registered")
endif()

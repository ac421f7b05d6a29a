# SigV4 cross-checked against an independent signer: sigv4_crosscheck.py
# generates a few hundred varied requests, signs them with botocore, and
# compares with sigv4_tool (our signer behind a JSON-lines interface).
# Skipped (exit 77) when botocore is not installed.
include_guard(GLOBAL)

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
                   --tool $<TARGET_FILE:sigv4_tool>)
  set_tests_properties(sigv4_crosscheck PROPERTIES
    LABELS unit
    SKIP_RETURN_CODE 77
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1"
    TIMEOUT 300)
else()
  message(STATUS "python3 not found: the sigv4_crosscheck test is not registered")
endif()

# S3 tier: a real S3 server (single-node Ceph RGW from scripts/s3-server) as a CTest fixture.
# Include it from tests/CMakeLists.txt:   include(support/s3_server_fixture.cmake)
#
#   s3.server_up    FIXTURES_SETUP   s3   scripts/s3-server up   --state <build>/rgw
#   s3.server_down  FIXTURES_CLEANUP s3   scripts/s3-server down --state <build>/rgw
#
# A test that needs the server requires the fixture and gets HFM_S3_ENV_FILE (the `export`
# lines written by `up`: HFM_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# HFM_S3_SERVER; s3.json next to it has the same as JSON):
#   hfm_require_s3(<test> ...)                          for tests added with add_test()
#   gtest_discover_tests(<exe> PROPERTIES ${HFM_S3_TEST_PROPERTIES})   for a gtest executable
# ctest pulls s3.server_up/down in by itself when a selected test requires the fixture
# (e.g. `ctest -R s3.test_s3_server` or `ctest -L s3`), and runs down even if tests fail.
# The Python tests of tests/s3/test_*.py are added here as s3.<module>.

get_filename_component(HFM_S3_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(HFM_S3_SERVER_SCRIPT ${HFM_S3_SOURCE_ROOT}/scripts/s3-server)
set(HFM_S3_STATE_DIR ${CMAKE_BINARY_DIR}/rgw)
set(HFM_S3_ENV_FILE ${HFM_S3_STATE_DIR}/s3.env)
# One ENVIRONMENT entry only: a ';' inside would be split when the list is expanded.
set(HFM_S3_TEST_PROPERTIES FIXTURES_REQUIRED s3 ENVIRONMENT HFM_S3_ENV_FILE=${HFM_S3_ENV_FILE})

if(NOT Python3_EXECUTABLE)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
endif()

add_test(NAME s3.server_up COMMAND ${HFM_S3_SERVER_SCRIPT} up --state ${HFM_S3_STATE_DIR})
set_tests_properties(s3.server_up PROPERTIES
  FIXTURES_SETUP s3 LABELS s3 TIMEOUT 300 RESOURCE_LOCK hfm_s3_state)
add_test(NAME s3.server_down COMMAND ${HFM_S3_SERVER_SCRIPT} down --state ${HFM_S3_STATE_DIR})
set_tests_properties(s3.server_down PROPERTIES
  FIXTURES_CLEANUP s3 LABELS s3 TIMEOUT 60 RESOURCE_LOCK hfm_s3_state)

function(hfm_require_s3)
  foreach(t IN LISTS ARGN)
    set_property(TEST ${t} APPEND PROPERTY FIXTURES_REQUIRED s3)
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
      "HFM_S3_ENV_FILE=${HFM_S3_ENV_FILE}" "HFM_SOURCE_DIR=${HFM_S3_SOURCE_ROOT}")
  endforeach()
endfunction()

file(GLOB hfm_s3_py_tests CONFIGURE_DEPENDS ${HFM_S3_SOURCE_ROOT}/tests/s3/test_*.py)
foreach(t IN LISTS hfm_s3_py_tests)
  get_filename_component(n ${t} NAME_WE)
  add_test(NAME s3.${n} COMMAND ${Python3_EXECUTABLE} -m unittest -v ${n}
    WORKING_DIRECTORY ${HFM_S3_SOURCE_ROOT}/tests/s3)
  set_tests_properties(s3.${n} PROPERTIES LABELS s3 TIMEOUT 300)
  hfm_require_s3(s3.${n})
endforeach()

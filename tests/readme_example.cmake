# Fails unless README.md contains examples/run_model.c verbatim (so the README's C example
# is the one the tests compile and run).
file(READ ${README} readme)
file(READ ${EXAMPLE} example)
string(FIND "${readme}" "${example}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md does not contain examples/run_model.c verbatim")
endif()

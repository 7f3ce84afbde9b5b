# Runs at install time (install(SCRIPT)): the systemd unit with the paths of this install,
# and the example node and model files under the configuration directory.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(CD_SYSCONFDIR "/etc")
else()
  set(CD_SYSCONFDIR "${prefix}/etc")
endif()
set(CD_BINDIR "${prefix}/bin")
set(CD_DOCDIR "${prefix}/share/doc/contactd")
set(root "$ENV{DESTDIR}") # file(INSTALL) adds it by itself; configure_file() does not
set(unit "${root}${prefix}/lib/systemd/system/contactd.service")
message(STATUS "Installing: ${unit}")
configure_file("${CD_SOURCE_DIR}/ops/systemd/contactd.service.in" "${unit}" @ONLY)
file(INSTALL "${CD_SOURCE_DIR}/ops/sample-node.yaml"
     DESTINATION "${CD_SYSCONFDIR}/contactd" RENAME node.yaml.example)
file(INSTALL "${CD_SOURCE_DIR}/ops/sample-model.yaml"
     DESTINATION "${CD_SYSCONFDIR}/contactd" RENAME model.yaml.example)

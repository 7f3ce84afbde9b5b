# What `cmake --install` lays out for a real deployment (for a system install, configure
# with -DCMAKE_INSTALL_PREFIX=/usr; `cmake --install build --prefix DIR` lays it out in DIR):
#   bin/contactd, bin/contactctl
#   share/doc/contactd/ (README, configuration, metrics and API references)
#   lib/systemd/system/contactd.service, lib/sysusers.d/contactd.conf
#   etc/contactd/node.yaml.example, model.yaml.example  (/etc/contactd for the prefix /usr)
install(TARGETS contactd contactctl RUNTIME DESTINATION bin)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/config.md
              ${CMAKE_SOURCE_DIR}/docs/metrics.md ${CMAKE_SOURCE_DIR}/docs/api.md
        DESTINATION share/doc/contactd)
install(FILES ${CMAKE_SOURCE_DIR}/ops/systemd/contactd.sysusers
        DESTINATION lib/sysusers.d RENAME contactd.conf)
# The unit names the installed paths, which are known only at install time.
install(CODE "set(CD_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")")
install(SCRIPT ${CMAKE_SOURCE_DIR}/ops/install-system.cmake)

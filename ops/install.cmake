# What `cmake --install` lays out for a real deployment (for a system install, configure
# with -DCMAKE_INSTALL_PREFIX=/usr; `cmake --install build --prefix DIR` lays it out in DIR):
#   bin/contactd, bin/contactctl
#   share/doc/contactd/ (README, configuration, metrics and API references)
#   lib/systemd/system/contactd.service, lib/sysusers.d/contactd.conf
#   etc/contactd/node.yaml.example, model.yaml.example  (/etc/contactd for the prefix /usr)
#   share/contactd/web/ (the pages: chat, desk, lib, ...)
# A node whose file names no web_root serves the pages from CMAKE_INSTALL_FULL_DATADIR as
# configured (adapters/web/CMakeLists.txt), so install with the prefix the build was
# configured for; a prefix given only at install time needs web_root in the node file.
include(GNUInstallDirs)
install(TARGETS contactd contactctl RUNTIME DESTINATION bin)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/web/ DESTINATION ${CMAKE_INSTALL_DATADIR}/contactd/web)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/config.md
              ${CMAKE_SOURCE_DIR}/docs/metrics.md ${CMAKE_SOURCE_DIR}/docs/api.md
        DESTINATION share/doc/contactd)
install(FILES ${CMAKE_SOURCE_DIR}/ops/systemd/contactd.sysusers
        DESTINATION lib/sysusers.d RENAME contactd.conf)
# The unit names the installed paths, which are known only at install time.
install(CODE "set(CD_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")")
install(SCRIPT ${CMAKE_SOURCE_DIR}/ops/install-system.cmake)

/* Scratch directories for unit tests that write files. */
#ifndef CD_TESTS_TMPDIR_H
#define CD_TESTS_TMPDIR_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Removes path and everything under it; a missing path is fine. */
static inline void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char sub[PATH_MAX];
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) < (int)sizeof(sub)) {
            rm_tree(sub);
        }
    }
    closedir(d);
    rmdir(path);
}

#endif

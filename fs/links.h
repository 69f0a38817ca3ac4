/* links.h - symbolic link targets: normalising, transform_symlinks and
 * contain_symlinks (links.c). */
#ifndef SFTPMNT_LINKS_H
#define SFTPMNT_LINKS_H

/* Lexically normalised absolute path ("." "..", "//" gone); malloc'd. */
char *normalize(const char *p);
int link_policy(const char *root, int transform, int contain,
		const char *linkpath, char **t);
/* dir + "/" + name (no doubled slash after "/"); malloc'd. */
char *path_join(const char *dir, const char *name);

#endif

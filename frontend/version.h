/*
 * popek's version, for --version, the monitor's info version and QMP's
 * greeting and query-version.
 */
#ifndef FRONTEND_VERSION_H
#define FRONTEND_VERSION_H

#define POPEK_VERSION_MAJOR 0
#define POPEK_VERSION_MINOR 1
#define POPEK_VERSION_MICRO 0
#define POPEK_VERSION       "0.1.0"

#endif /* FRONTEND_VERSION_H */

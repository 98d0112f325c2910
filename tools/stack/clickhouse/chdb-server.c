/*
 * chdb-server: runs ClickHouse (chDB's libchdb.so) as a local HTTP server for dev and tests.
 *
 * chDB's exported chdb_query_cmdline() is clickhouse-local with command-line arguments, and
 * clickhouse-local can open an HTTP listener; the Node addon does not expose that function,
 * hence this launcher. stack.mjs passes the clickhouse-local arguments through unchanged.
 *
 * Build: gcc -O2 -o chdb-server chdb-server.c -ldl
 * Usage: CHDB_LIB=/path/libchdb.so chdb-server clickhouse --path=... --http_port=... --query "..."
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *(*query_cmdline_fn)(int argc, char **argv);
typedef const char *(*result_error_fn)(void *result);

int main(int argc, char **argv) {
  const char *lib = getenv("CHDB_LIB");
  if (!lib) lib = "libchdb.so";
  void *handle = dlopen(lib, RTLD_NOW);
  if (!handle) {
    fprintf(stderr, "chdb-server: cannot load %s: %s\n", lib, dlerror());
    return 2;
  }
  query_cmdline_fn query = (query_cmdline_fn)dlsym(handle, "chdb_query_cmdline");
  if (!query) {
    fprintf(stderr, "chdb-server: chdb_query_cmdline not found: %s\n", dlerror());
    return 2;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: chdb-server clickhouse --path=DIR --http_port=PORT --query SQL\n");
    return 2;
  }
  /* argv[1] is the program name clickhouse-local expects ("clickhouse"). clickhouse-local prints
   * most errors (bad SQL, ...) to stderr itself; errors that escape it come back in the result. */
  void *result = query(argc - 1, argv + 1);
  result_error_fn result_error = (result_error_fn)dlsym(handle, "chdb_result_error");
  const char *err = (result && result_error) ? result_error(result) : NULL;
  if (err && *err) {
    fprintf(stderr, "chdb-server: %s\n", err);
    return 1;
  }
  return 0;
}

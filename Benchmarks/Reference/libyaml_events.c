/*
 * The reference for hk's plan-throughput benchmark (P1): a raw libyaml event parse.
 *
 * Reads each file named in the list file (one path a line) into memory and pulls every
 * event out of libyaml's parser, building nothing. This is the floor any libyaml-based loader
 * stands on; hk's `plan` is measured as a multiple of it.
 *
 * Usage: libyaml-events LISTFILE [REPEAT]
 * Prints "files=N events=N scalars=N bytes=N" so the harness can check the work was done.
 * Build: cc -O2 -o libyaml-events libyaml_events.c -lyaml
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 14, n = 0;
  unsigned char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s LISTFILE [REPEAT]\n", argv[0]);
    return 64;
  }
  int repeat = argc > 2 ? atoi(argv[2]) : 1;
  FILE *list = fopen(argv[1], "r");
  if (!list) {
    perror(argv[1]);
    return 1;
  }
  char line[4096];
  long files = 0, events = 0, scalars = 0, bytes = 0;
  while (fgets(line, sizeof line, list)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0]) continue;
    for (int r = 0; r < repeat; r++) {
      size_t len = 0;
      unsigned char *text = read_file(line, &len);
      if (!text) {
        perror(line);
        return 1;
      }
      yaml_parser_t parser;
      yaml_event_t event;
      if (!yaml_parser_initialize(&parser)) return 1;
      yaml_parser_set_input_string(&parser, text, len);
      yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
      int done = 0;
      while (!done) {
        if (!yaml_parser_parse(&parser, &event)) {
          fprintf(stderr, "%s:%zu:%zu: %s\n", line, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                  parser.problem ? parser.problem : "parse error");
          return 1;
        }
        events++;
        if (event.type == YAML_SCALAR_EVENT) scalars++;
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
      }
      yaml_parser_delete(&parser);
      free(text);
      files++;
      bytes += (long)len;
    }
  }
  fclose(list);
  printf("files=%ld events=%ld scalars=%ld bytes=%ld\n", files, events, scalars, bytes);
  return 0;
}

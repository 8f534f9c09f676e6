// The system libcrypto (OpenSSL 3): only the EVP message-digest interface, for SHA-256.
#include <openssl/evp.h>

/*-------------------------------------------------------------------------
 *
 * secret.c
 *		secret fields (spec 6.3): base64(salt16 | iv12 | ciphertext | tag16)
 *		with key = PBKDF2-HMAC-SHA256(passphrase, salt, 100000, 32) and
 *		AES-256-GCM without additional data.
 *
 * Each value has its own random salt, so derived keys cannot be shared
 * between values and are not cached.  A value that does not decrypt is an
 * error here (s3db.js would hand back the stored text): returning cipher
 * text as if it were the secret would be silently wrong.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "format/codec_int.h"

#define SALT_LEN 16
#define IV_LEN 12
#define TAG_LEN 16
#define KEY_LEN 32
#define PBKDF2_ITER 100000

static bool
derive_key(const char *passphrase, const unsigned char *salt, unsigned char *key)
{
	if (passphrase == NULL)
		passphrase = "secret";
	return PKCS5_PBKDF2_HMAC(passphrase, (int) strlen(passphrase), salt, SALT_LEN,
							 PBKDF2_ITER, EVP_sha256(), KEY_LEN, key) == 1;
}

s3s_code
s3f_secret_decrypt(const char *passphrase, const char *stored, size_t len,
				   char **plain, size_t *plainlen, s3s_error *err)
{
	unsigned char *raw;
	unsigned char key[KEY_LEN];
	unsigned char *pt = NULL;
	size_t		rawlen,
				ctlen;
	EVP_CIPHER_CTX *ctx = NULL;
	int			n = 0,
				fin = 0;
	bool		ok = false;

	*plain = NULL;
	*plainlen = 0;
	raw = s3f_base64_decode(stored, len, &rawlen);
	if (raw == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_NOMEM, "decode", NULL, "out of memory");
		return S3S_ERR_NOMEM;
	}
	if (rawlen < SALT_LEN + IV_LEN + TAG_LEN || rawlen > (size_t) 1 << 30)
		goto done;
	ctlen = rawlen - SALT_LEN - IV_LEN - TAG_LEN;
	pt = malloc(ctlen + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (pt == NULL || ctx == NULL || !derive_key(passphrase, raw, key))
		goto done;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
		EVP_DecryptInit_ex(ctx, NULL, NULL, key, raw + SALT_LEN) != 1)
		goto done;
	if (ctlen > 0 &&
		EVP_DecryptUpdate(ctx, pt, &n, raw + SALT_LEN + IV_LEN, (int) ctlen) != 1)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
							raw + rawlen - TAG_LEN) != 1)
		goto done;
	if (EVP_DecryptFinal_ex(ctx, pt + n, &fin) != 1)
		goto done;
	ok = true;
	pt[n + fin] = '\0';
	*plain = (char *) pt;
	*plainlen = (size_t) (n + fin);
	pt = NULL;
done:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(ctx);
	free(pt);
	free(raw);
	if (!ok)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_FORMAT, "decode", NULL,
						  "cannot decrypt secret value (wrong passphrase or not an s3db.js secret)");
		return S3S_ERR_FORMAT;
	}
	return S3S_OK;
}

char *
s3f_secret_encrypt_with(const char *passphrase, const char *plain, size_t len,
						const unsigned char *salt, const unsigned char *iv)
{
	unsigned char key[KEY_LEN];
	unsigned char *raw;
	EVP_CIPHER_CTX *ctx = NULL;
	int			n = 0,
				fin = 0;
	char	   *out = NULL;

	if (len > (size_t) 1 << 30)
		return NULL;
	raw = malloc(SALT_LEN + IV_LEN + len + TAG_LEN + 16);
	ctx = EVP_CIPHER_CTX_new();
	if (raw == NULL || ctx == NULL || !derive_key(passphrase, salt, key))
		goto done;
	memcpy(raw, salt, SALT_LEN);
	memcpy(raw + SALT_LEN, iv, IV_LEN);
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
		EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) != 1)
		goto done;
	if (len > 0 &&
		EVP_EncryptUpdate(ctx, raw + SALT_LEN + IV_LEN, &n, (const unsigned char *) plain,
						  (int) len) != 1)
		goto done;
	if (EVP_EncryptFinal_ex(ctx, raw + SALT_LEN + IV_LEN + n, &fin) != 1)
		goto done;
	n += fin;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
							raw + SALT_LEN + IV_LEN + n) != 1)
		goto done;
	out = s3f_base64_encode(raw, (size_t) (SALT_LEN + IV_LEN + n + TAG_LEN));
done:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	return out;
}

s3s_code
s3f_secret_encrypt(const char *passphrase, const char *plain, size_t len,
				   char **out, s3s_error *err)
{
	unsigned char rnd[SALT_LEN + IV_LEN];

	*out = NULL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_INVALID, "encode", NULL,
						  "cannot get random bytes for a secret");
		return S3S_ERR_INVALID;
	}
	*out = s3f_secret_encrypt_with(passphrase, plain, len, rnd, rnd + SALT_LEN);
	if (*out == NULL)
	{
		if (err)
			s3s_error_set(err, S3S_ERR_INVALID, "encode", NULL, "cannot encrypt a secret value");
		return S3S_ERR_INVALID;
	}
	return S3S_OK;
}

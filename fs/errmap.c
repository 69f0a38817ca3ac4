/*
 * errmap.c - SFTP status codes to errno: one table, then refinements per
 * operation where SFTP v3 says too little (OpenSSH's server answers a
 * generic FAILURE for several distinct POSIX errors).  A FAILURE of a
 * call that changes the file system is first looked into with a STATVFS
 * (ops.c refine_failure: EROFS, ENOSPC); these are the guesses after.
 */
#include <errno.h>

#include "sftpmnt.h"

static const int table[] = {
	[SSH_FX_OK] = 0,
	[SSH_FX_EOF] = 0, /* handled by the reader; an error elsewhere */
	[SSH_FX_NO_SUCH_FILE] = ENOENT,
	[SSH_FX_PERMISSION_DENIED] = EACCES,
	[SSH_FX_FAILURE] = EIO,
	[SSH_FX_BAD_MESSAGE] = EBADMSG,
	[SSH_FX_NO_CONNECTION] = ENOTCONN,
	[SSH_FX_CONNECTION_LOST] = ECONNABORTED,
	[SSH_FX_OP_UNSUPPORTED] = EOPNOTSUPP,
	[SSH_FX_INVALID_HANDLE] = EBADF,
	[SSH_FX_NO_SUCH_PATH] = ENOENT,
	[SSH_FX_FILE_ALREADY_EXISTS] = EEXIST,
	[SSH_FX_WRITE_PROTECT] = EROFS,
	[SSH_FX_NO_MEDIA] = ENOMEDIUM,
	[SSH_FX_NO_SPACE_ON_FILESYSTEM] = ENOSPC,
	[SSH_FX_QUOTA_EXCEEDED] = EDQUOT,
	[SSH_FX_UNKNOWN_PRINCIPAL] = EINVAL,
	[SSH_FX_LOCK_CONFLICT] = EAGAIN,
	[SSH_FX_DIR_NOT_EMPTY] = ENOTEMPTY,
	[SSH_FX_NOT_A_DIRECTORY] = ENOTDIR,
	[SSH_FX_INVALID_FILENAME] = EINVAL,
	[SSH_FX_LINK_LOOP] = ELOOP,
	[SSH_FX_CANNOT_DELETE] = EPERM,
	[SSH_FX_INVALID_PARAMETER] = EINVAL,
	[SSH_FX_FILE_IS_A_DIRECTORY] = EISDIR,
	[SSH_FX_BYTE_RANGE_LOCK_CONFLICT] = EAGAIN,
	[SSH_FX_BYTE_RANGE_LOCK_REFUSED] = ENOLCK,
	[SSH_FX_DELETE_PENDING] = EBUSY,
	[SSH_FX_FILE_CORRUPT] = EIO,
	[SSH_FX_OWNER_INVALID] = EINVAL,
	[SSH_FX_GROUP_INVALID] = EINVAL,
	[SSH_FX_NO_MATCHING_BYTE_RANGE_LOCK] = ENOLCK,
};

/* Returns a positive errno (0 for OK). */
int errmap(uint32_t status, enum op_kind kind)
{
	int e = status < sizeof(table) / sizeof(table[0]) ? table[status] : EIO;

	if (status == SSH_FX_EOF)
		e = EIO;
	if (status != SSH_FX_FAILURE)
		return e;
	/* OpenSSH's sftp-server maps errno to FAILURE when v3 has no code:
	 * the likely POSIX error per operation. */
	switch (kind) {
	case OP_RMDIR:
		return ENOTEMPTY;
	case OP_MKDIR:
	case OP_SYMLINK:
	case OP_LINK:
	case OP_MKNOD:
		return EEXIST;
	case OP_RENAME:
		return EEXIST;
	case OP_COPY:
		/* the kernel then copies through the mount, and meets the
		 * real error if there is one */
		return EOPNOTSUPP;
	default:
		return EIO;
	}
}

int errmap_reply(const uint8_t *body, size_t n, enum op_kind kind)
{
	struct sftp_status st = sftp_dec_status(body, n);

	if (body[0] != SSH_FXP_STATUS || st.rc)
		return EIO;
	return errmap(st.code, kind);
}

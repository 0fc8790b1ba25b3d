/* A shared module without the seqpipe entry symbol. */
int noentry_something(void);
int noentry_something(void)
{
	return 42;
}

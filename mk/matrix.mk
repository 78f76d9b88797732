# mk/matrix.mk -- `make matrix`: every strategy on 1 and 2 instances under
# the burst, last-seat and sustained scenarios (scripts/matrix.sh); writes
# docs/matrix.md and docs/matrix.png.
#
#   make matrix
#   make matrix MATRIX_ARGS="--scenarios burst --instances 2"
.PHONY: matrix
matrix: all services
	@bash scripts/matrix.sh $(MATRIX_ARGS)

"""The lecture's computations in a few lines of gdlab."""

import numpy as np

import gdlab

cafe = gdlab.datasets.cafe()
X, y = cafe.X, cafe.y.reshape(-1, 1)
sse = lambda b: (y - X @ b).T @ (y - X @ b)  # noqa: E731
print("gradient at (9, 2):", gdlab.grad(sse)(np.array([[9.0], [2.0]])).ravel())
beta_hat = gdlab.ols(X, y)
print("least squares:", beta_hat.ravel(), "gradient there:", gdlab.grad(sse)(beta_hat).ravel())

loss = lambda b: (b / 2 - 1) ** 2  # noqa: E731
print("grid search:", gdlab.grid_search(loss, np.linspace(-10, 10, 100)).best)
for lr in (0.01 / 6, 0.5, 2.0, 4.0, 5.0):
    path = gdlab.descend(loss, -10.0, lr=lr, steps=1000, tol=1e-8)
    print(f"lr={lr:<8.4g} {path.status.value:10} final={float(path.final):<12.6g} {path.message}")

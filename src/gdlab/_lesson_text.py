"""The lesson's words and code, in English and Korean: the text that :mod:`gdlab._lesson` serves.

Each chapter: its title, prose, task and hint as (English, Korean) pairs; the note on
digits; the rows (label in English and Korean, the lecture's print or ``None``); the
settings (name, English and Korean label, default as the lecture wrote it, low, high,
whole); the lecture's TensorFlow code; and gdlab's code with ``$name`` for each setting.
"""

from __future__ import annotations

from typing import Any

F32_NOTE = (
    "The lecture ran in TensorFlow's float32 on a GPU; gdlab computes in float32 on this machine. "
    "float32 keeps about 7 digits, and the order in which a sum is rounded differs between "
    "machines, so the last one or two digits may differ.",
    "강의는 TensorFlow의 float32로 GPU에서 계산했고, gdlab은 이 컴퓨터에서 float32로 계산합니다. "
    "float32는 약 7자리만 정확하고, 합을 반올림하는 순서가 "
    "기계마다 다르므로 마지막 한두 자리가 다를 수 있습니다.",
)
F64_NOTE = (
    "float64 in both. The lecture's sales are printed with 8 decimals and gdlab uses those printed "
    "numbers, so the 8th decimal of a sum over them may differ.",
    "둘 다 float64입니다. gdlab은 강의가 소수 8자리로 출력한 판매량을 데이터로 쓰므로, "
    "그 합의 소수 8번째 자리는 다를 수 있습니다.",
)

UI: dict[str, tuple[str, str]] = {
    "lesson": ("Gradient descent: the lecture, live", "경사하강법: 강의를 직접 돌려보기"),
    "chapter": ("Chapter", "장"),
    "quantity": ("Value", "값"),
    "lecture": ("Lecture printed", "강의 출력"),
    "ours": ("gdlab, lecture's settings", "gdlab, 강의 설정"),
    "yours": ("gdlab, your settings", "gdlab, 내 설정"),
    "settings": ("Change these", "바꿔 보세요"),
    "reset": ("Lecture's settings", "강의 설정으로"),
    "code": ("The same with gdlab", "gdlab 코드"),
    "tf_code": ("The lecture's TensorFlow code", "강의의 TensorFlow 코드"),
    "task": ("Try this", "해보기"),
    "hint": ("Hint", "힌트"),
    "met": ("Done", "성공"),
    "not_met": ("Not yet", "아직"),
    "previous": ("Previous", "이전"),
    "next": ("Next", "다음"),
    "notebook": ("Download as a notebook", "노트북으로 내려받기"),
    "projector": ("Projector", "프로젝터"),
    "play": ("Play", "재생"),
    "none": ("(not printed)", "(출력 없음)"),
    "digits": ("Why the last digits may differ", "마지막 자리가 다를 수 있는 이유"),
    "busy": ("Computing...", "계산 중..."),
    "done_count": ("tasks done", "개 해결"),
    "notebook_intro": (
        "Each code cell runs with gdlab and prints the lecture's numbers; the comments give what the "
        "lecture printed. Change a setting and run the cell again.",
        "각 코드 셀은 gdlab으로 실행되며 강의의 값을 출력합니다. 주석에 강의가 출력한 값이 있습니다. "
        "설정을 바꾸고 셀을 다시 실행해 보세요.",
    ),
}

CHAPTER_TEXT: list[dict[str, Any]] = [
    {
        "key": "data",
        "title": ("The cafe data and its gradient", "카페 데이터와 기울기"),
        "prose": (
            "Ten days of temperature x and coffee sales y. The model is y ≈ b0 + b1·x and the loss is the "
            "sum of squared gaps, Σ(y − b0 − b1·x)². Its two partial derivatives at (b0, b1) = (9, 2) say "
            "how the loss changes when each parameter grows: both are negative, so both should grow.",
            "온도 x와 커피 판매량 y, 열흘치 데이터입니다. 모형은 y ≈ b0 + b1·x, loss는 오차 제곱의 합 "
            "Σ(y − b0 − b1·x)²입니다. (b0, b1) = (9, 2)에서의 두 편미분은 각 모수를 키울 때 loss가 어떻게 "
            "변하는지 알려줍니다. 둘 다 음수이므로 둘 다 키워야 합니다.",
        ),
        "rows": [
            ("sales y[0]", "판매량 y[0]", "55.4183651"),
            ("d loss / d b0 (float32)", "d loss / d b0 (float32)", "-126.78691"),
            ("d loss / d b1 (float32)", "d loss / d b1 (float32)", "-3208.8396"),
        ],
        "controls": [
            ("b0", "intercept b0", "절편 b0", "9", -50, 50, False),
            ("b1", "slope b1", "기울기 b1", "2", -10, 10, False),
        ],
        "task": (
            "Change b1 until d loss / d b1 turns positive. Which way should b1 then move?",
            "d loss / d b1이 양수가 될 때까지 b1을 바꿔 보세요. 그때 b1은 어느 쪽으로 움직여야 할까요?",
        ),
        "hint": (
            "Make the line steeper than the points: try b1 = 2.5.",
            "직선이 점들보다 가파르게 되도록: b1 = 2.5를 넣어 보세요.",
        ),
        "note": F32_NOTE,
        "tf_code": """
x = tnp.array([20.1, 22.2, 22.7, 23.3, 24.4, 25.1, 26.2, 27.3, 28.4, 30.4])
tf.random.set_seed(43052)
epsilon = tf.random.normal([10])
y = 10.2 + 2.2*x + epsilon
beta0 = tf.Variable(9.0)
beta1 = tf.Variable(2.0)
with tf.GradientTape(persistent=True) as tape:
    loss = sum((y-beta0-beta1*x)**2)
tape.gradient(loss, beta0), tape.gradient(loss, beta1)
# (-126.78691, -3208.8396)
""",
        "code": """
import jax.numpy as jnp
import gdlab

cafe = gdlab.datasets.cafe()
print(cafe.y[0])  # lecture: 55.4183651
x = jnp.asarray(cafe.x, "float32")
y = jnp.asarray(cafe.y, "float32")
loss = lambda b0, b1: jnp.sum((y - b0 - b1 * x) ** 2)
g0, g1 = gdlab.grad(loss, (0, 1), dtype="float32")($b0, $b1)
print(g0, g1)  # lecture, at (9, 2): -126.78691 -3208.8396
""",
    },
    {
        "key": "matrix",
        "title": ("The matrix form beside autodiff", "행렬 형태와 자동미분"),
        "prose": (
            "Stack a column of ones and x into X, and the loss is (y − Xb)'(y − Xb). Calculus gives its "
            "gradient as −2X'y + 2X'Xb; autodiff gives the same numbers without any calculus. The picture "
            "is the loss over (b0, b1): a long, narrow valley.",
            "1로 된 열과 x를 붙여 X를 만들면 loss는 (y − Xb)'(y − Xb)입니다. 미분 공식으로 구한 기울기는 "
            "−2X'y + 2X'Xb이고, 자동미분은 공식 없이 같은 값을 줍니다. 그림은 (b0, b1)에 대한 loss로, "
            "길고 좁은 골짜기 모양입니다.",
        ),
        "rows": [
            ("autodiff, d/db0", "자동미분, d/db0", "-126.78690968"),
            ("autodiff, d/db1", "자동미분, d/db1", "-3208.83947922"),
            ("−2X'y + 2X'Xb, first", "−2X'y + 2X'Xb, 첫째", "-126.78690968"),
            ("−2X'y + 2X'Xb, second", "−2X'y + 2X'Xb, 둘째", "-3208.83947922"),
            ("largest difference", "가장 큰 차이", None),
        ],
        "controls": [
            ("b0", "b0", "b0", "9", -50, 50, False),
            ("b1", "b1", "b1", "2", -10, 10, False),
        ],
        "task": (
            "Move b until both components of the gradient are smaller than 200 in size.",
            "기울기의 두 성분이 모두 절댓값 200보다 작아지도록 b를 옮겨 보세요.",
        ),
        "hint": (
            "The white cross marks the bottom of the valley, near (9.94, 2.22); "
            "the true β (10, 2.2) is close to it.",
            "흰 X 표시가 골짜기의 바닥, (9.94, 2.22) 근처입니다. 참값 β (10, 2.2)도 그 가까이에 있습니다.",
        ),
        "note": F64_NOTE,
        "tf_code": """
X = tnp.array([1]*10 +[20.1, 22.2, 22.7, 23.3, 24.4, 25.1, 26.2, 27.3, 28.4, 30.4]).reshape(2,10).T
beta = tnp.array([9.0,2.0]).reshape(2,1)
with tf.GradientTape(persistent=True) as tape:
    tape.watch(beta)
    yhat= X@beta
    loss= (y-yhat).T @(y-yhat)
tape.gradient(loss,beta)          # [[-126.78690968], [-3208.83947922]]
-2*X.T @ y + 2*X.T@X@beta         # [[-126.78690968], [-3208.83947922]]
""",
        "code": """
import numpy as np
import gdlab

cafe = gdlab.datasets.cafe()
X, y = cafe.X, cafe.y.reshape(-1, 1)
b = np.array([[$b0], [$b1]])
loss = lambda b: (y - X @ b).T @ (y - X @ b)
print(gdlab.grad(loss)(b).ravel())  # autodiff
print((-2 * X.T @ y + 2 * X.T @ X @ b).ravel())  # -2X'y + 2X'Xb
# lecture, at (9, 2), both: [ -126.78690968 -3208.83947922]
""",
    },
    {
        "key": "closed",
        "title": ("The closed form, and the gradient vanishing there", "최적해 공식, 그리고 그곳의 기울기 0"),
        "prose": (
            "The best b has a formula, β̂ = (X'X)⁻¹X'y. At β̂ the gradient is zero (up to rounding, about "
            "1e-10). At the true β = (10.2, 2.2) it is not: the noise pulls the estimate away. With more "
            "data, β̂ comes closer to the true β.",
            "가장 좋은 b는 공식 β̂ = (X'X)⁻¹X'y로 구할 수 있습니다. β̂에서 기울기는 0입니다(반올림 오차 "
            "1e-10 정도). 참값 β = (10.2, 2.2)에서는 0이 "
            "아닙니다: 오차(noise)가 추정값을 끌어당기기 때문입니다. "
            "데이터가 많아지면 β̂은 참값에 가까워집니다.",
        ),
        "rows": [
            ("β̂ b0", "β̂ b0", None),
            ("β̂ b1", "β̂ b1", None),
            ("gradient at β̂, first", "β̂에서 기울기, 첫째", "-5.57065505e-12"),
            ("gradient at β̂, second", "β̂에서 기울기, 둘째", "-1.40943257e-10"),
            ("gradient at true β, first", "참값 β에서 기울기, 첫째", "-2.74690968"),
            ("gradient at true β, second", "참값 β에서 기울기, 둘째", "-71.45947922"),
        ],
        "controls": [
            (
                "n",
                "sample size n (10: the lecture's data; more: simulated)",
                "표본 크기 n (10: 강의 데이터, 그 이상: 모의 데이터)",
                "10",
                3,
                100_000,
                True,
            ),
        ],
        "task": (
            "Find a sample size n at which β̂ is within 0.1 of the true β in both components.",
            "β̂의 두 성분이 모두 참값과 0.1 이내가 되는 표본 크기 n을 찾아보세요.",
        ),
        "hint": (
            "The error shrinks like 1/√n: try n = 10000.",
            "오차는 1/√n처럼 줄어듭니다: n = 10000을 넣어 보세요.",
        ),
        "note": (
            "Both are zero up to rounding: the lecture's inverse and gdlab's QR solver round "
            "differently, so the tiny values at β̂ differ, but both are below 1e-9, where the gradient "
            "elsewhere is in the thousands. The other rows are float64 from the printed sales.",
            "둘 다 반올림 오차 수준의 0입니다: 강의의 역행렬과 gdlab의 QR 풀이는 반올림이 달라서 "
            "β̂에서의 아주 작은 값은 서로 다르지만, 다른 곳의 기울기가 수천인 데 비해 둘 다 "
            "1e-9보다 작습니다. 나머지 값은 출력된 판매량으로 계산한 float64입니다.",
        ),
        "tf_code": """
beta_optimal = tf.linalg.inv(X.T @ X) @ X.T  @y
with tf.GradientTape(persistent=True) as tape:
    tape.watch(beta_optimal)
    yhat= X@beta_optimal
    loss= (y-yhat).T @(y-yhat)
tape.gradient(loss,beta_optimal)   # [[-5.57065505e-12], [-1.40943257e-10]]
with tf.GradientTape(persistent=True) as tape:
    tape.watch(beta_true)
    yhat= X@beta_true
    loss= (y-yhat).T @(y-yhat)
tape.gradient(loss,beta_true)      # [[-2.74690968], [-71.45947922]]
""",
        "code": """
import gdlab

n = $n
data = gdlab.datasets.cafe() if n == 10 else gdlab.datasets.make_regression(n, seed=0)
X, y = data.X, data.y.reshape(-1, 1)
loss = lambda b: (y - X @ b).T @ (y - X @ b)
beta_hat = gdlab.ols(X, y)  # (X'X)^-1 X'y, solved stably
print(beta_hat.ravel())
print(gdlab.grad(loss)(beta_hat).ravel())  # lecture: [-5.57065505e-12 -1.40943257e-10]
print(gdlab.grad(loss)(data.beta.reshape(2, 1)).ravel())  # lecture: [ -2.74690968 -71.45947922]
""",
    },
    {
        "key": "grid",
        "title": ("Grid search", "그리드 서치"),
        "prose": (
            "The problem from here on: find the β that minimises (β/2 − 1)²; the answer is β = 2. The "
            "first method tries every β of a list, linspace(−10, 10, 100), and keeps the best: index 59, "
            "β = 1.9191919…. It never lands exactly on 2, and it costs one evaluation per point.",
            "이제부터의 문제: (β/2 − 1)²을 최소화하는 β 찾기. 답은 β = 2입니다. 첫 번째 방법은 "
            "linspace(−10, 10, 100)의 모든 β를 계산해 가장 작은 것을 고릅니다: 59번째, β = 1.9191919…. "
            "2에 정확히 닿지 못하고, 점 하나마다 계산이 한 번씩 필요합니다.",
        ),
        "rows": [
            ("argmin index", "argmin 위치", "59"),
            ("best β", "가장 좋은 β", "1.9191919191919187"),
            ("loss at beta[60]", "beta[60]에서 loss", "0.0036730945821854847"),
        ],
        "controls": [("num", "number of grid points", "그리드 점의 개수", "100", 2, 10_000, True)],
        "task": (
            "Make the grid search land within 0.01 of the minimum 2 with the fewest points.",
            "가장 적은 점으로 그리드 서치가 최솟값 2와 0.01 이내에 닿게 해보세요.",
        ),
        "hint": (
            "The points are −10 + 20k/(n − 1). For which n is one of them exactly 2?",
            "점들은 −10 + 20k/(n − 1)입니다. 어떤 n이면 그 중 하나가 정확히 2가 될까요?",
        ),
        "note": (
            "float64 in both: the same numbers to the last digit.",
            "둘 다 float64: 마지막 자리까지 같습니다.",
        ),
        "tf_code": """
beta = np.linspace(-10,10,100)
loss = (beta/2-1)**2
tnp.argmin(loss)          # 59
beta[59]                  # 1.9191919191919187
(beta[60]/2-1)**2         # 0.0036730945821854847
""",
        "code": """
import numpy as np
import gdlab

beta = np.linspace(-10, 10, $num)
result = gdlab.grid_search(lambda b: (b / 2 - 1) ** 2, beta)
print(result.index, result.best)  # lecture, with 100 points: 59 1.9191919191919187
if len(beta) > 60:
    print(result.losses[60])  # lecture: 0.0036730945821854847
""",
    },
    {
        "key": "sign",
        "title": ("The sign step: probe both sides, move 0.01", "부호만 보고 0.01씩 이동"),
        "prose": (
            "Gradient descent, first idea: at β = −5, probe 0.01 to the right and to the left. The right is "
            "lower, so move right by 0.01, and repeat; stop when neither side is lower. This is a step of "
            "fixed size in the direction where the derivative's sign points down.",
            "경사하강법의 첫 아이디어: β = −5에서 오른쪽과 왼쪽으로 "
            "0.01씩 움직여 loss를 조사합니다. 오른쪽이 "
            "더 작으니 오른쪽으로 0.01 이동하고, 이를 반복합니다. 어느 쪽도 더 작지 않으면 멈춥니다. "
            "미분계수의 부호가 가리키는 내리막 방향으로 일정한 크기만큼 움직이는 방법입니다.",
        ),
        "rows": [
            ("loss at −5", "−5에서 loss", "12.25"),
            ("loss at −4.99 (0.01 right)", "−4.99에서 loss (오른쪽 0.01)", "12.215025"),
            ("loss at −5.01 (0.01 left)", "−5.01에서 loss (왼쪽 0.01)", "12.285025"),
            ("β after the last step", "마지막 걸음 뒤 β", None),
        ],
        "controls": [
            ("start", "start β", "시작 β", "-5", -10, 10, False),
            ("step", "step size", "이동 크기", "0.01", 0.001, 5, False),
            ("steps", "steps", "걸음 수", "100", 1, 10_000, True),
        ],
        "task": (
            "Get within 0.01 of 2, starting from −5.",
            "−5에서 출발해 2와 0.01 이내로 가보세요.",
        ),
        "hint": (
            "Each step moves 0.01, and 2 is 7 away from −5: how many steps is that?",
            "한 걸음에 0.01씩 움직이고, −5에서 2까지는 7입니다: 몇 걸음이 필요할까요?",
        ),
        "note": ("Python floats (float64) in both.", "둘 다 파이썬 float(float64)입니다."),
        "tf_code": """
(-5/2-1)**2          # 12.25
(-4.99/2-1)**2       # 12.215025   (0.01 to the right)
(-5.01/2-1)**2       # 12.285025   (0.01 to the left)
""",
        "code": """
import gdlab

loss = lambda b: (b / 2 - 1) ** 2
print(loss(-5), loss(-4.99), loss(-5.01))  # lecture: 12.25 12.215025 12.285025
path = gdlab.descend(loss, $start, lr=$step, steps=$steps, method="sign")
print(path.final)
""",
    },
    {
        "key": "descent",
        "title": ("Gradient descent at lr = 0.01/6", "학습률 0.01/6의 경사하강법"),
        "prose": (
            "Better: move in proportion to the slope, β_new = β_old − α·loss'(β_old). At β = −10 the slope "
            "is −6, so α = 0.01/6 makes the first step exactly 0.01. From −10, 100 steps reach −9.04, "
            "1,000 reach −3.21 and 10,000 reach 1.997: right, but slow.",
            "더 나은 방법: 기울기에 비례해서 움직입니다, β_new = β_old "
            "− α·loss'(β_old). β = −10에서 기울기가 "
            "−6이므로 α = 0.01/6이면 첫 걸음이 정확히 0.01입니다. "
            "−10에서 100번이면 −9.04, 1,000번이면 −3.21, "
            "10,000번이면 1.997에 닿습니다: 맞지만 느립니다.",
        ),
        "rows": [
            ("β after 100 steps (float32)", "100번 뒤 β (float32)", "-9.040152"),
            ("β after 1,000 steps (float32)", "1,000번 뒤 β (float32)", "-3.2133687"),
            ("β after 10,000 steps (float32)", "10,000번 뒤 β (float32)", "1.997125"),
            ("β after the last step (float32)", "마지막 걸음 뒤 β (float32)", None),
        ],
        "controls": [
            ("start", "start β", "시작 β", "-10", -20, 20, False),
            ("lr", "learning rate α", "학습률 α", "0.01/6", 1e-6, 10, False),
            ("steps", "steps", "걸음 수", "10000", 1, 10_000, True),
        ],
        "task": (
            "Too slow: find a rate that gets within 0.01 of 2 in at most 100 steps.",
            "너무 느립니다: 100번 안에 2와 0.01 이내로 가는 학습률을 찾아보세요.",
        ),
        "hint": ("α is tiny. Try α = 0.5.", "α가 아주 작습니다. α = 0.5를 넣어 보세요."),
        "note": F32_NOTE,
        "tf_code": """
alpha = 0.01/6
beta = tf.Variable(-10.0)
for k in range(10000):      # 100: -9.040152, 1000: -3.2133687
    with tf.GradientTape(persistent=True) as tape:
        loss = (beta/2-1)**2
    beta.assign_sub(tape.gradient(loss,beta)*alpha)
beta                        # 1.997125
""",
        "code": """
import gdlab

loss = lambda b: (b / 2 - 1) ** 2
path = gdlab.descend(loss, $start, lr=$lr, steps=$steps, dtype="float32")
for k in (100, 1000, 10000):
    if k < len(path.params):
        print(k, path.params[k])  # lecture: 100 -9.040152, 1000 -3.2133687, 10000 1.997125
""",
    },
    {
        "key": "animation",
        "title": ("The animation", "애니메이션"),
        "prose": (
            "The lecture draws each step as a point on the curve and plays them: the point walks down the "
            "slope, taking smaller steps as the slope flattens. At α = 0.01/6, 100 steps barely move it.",
            "강의는 매 걸음을 곡선 위의 점으로 그리고 차례로 재생합니다. 점은 비탈을 따라 내려가고, 기울기가 "
            "완만해질수록 걸음이 작아집니다. α = 0.01/6에서는 100번을 움직여도 거의 제자리입니다.",
        ),
        "rows": [
            ("β after the last step (float32)", "마지막 걸음 뒤 β (float32)", "-9.040152"),
            ("what the run did", "실행 결과", None),
        ],
        "controls": [
            ("start", "start β", "시작 β", "-10", -20, 20, False),
            ("lr", "learning rate α", "학습률 α", "0.01/6", 1e-6, 10, False),
            ("steps", "steps", "걸음 수", "100", 1, 2_000, True),
        ],
        "task": (
            "Find a rate with which the point settles within 0.01 of 2 in at most 10 steps.",
            "10번 안에 점이 2와 0.01 이내에 자리잡는 학습률을 찾아보세요.",
        ),
        "hint": (
            "The slope is β/2 − 1; at α = 2 one step lands exactly on 2. Try values near it.",
            "기울기는 β/2 − 1입니다. α = 2이면 한 번에 정확히 2에 닿습니다. 그 근처 값을 넣어 보세요.",
        ),
        "note": F32_NOTE,
        "animate": True,
        "tf_code": """
beta = tf.Variable(-10.0)
alpha = 0.01/6
beta_lst = [beta.numpy()]
loss_lst = [(beta.numpy()/2-1)**2]
for k in range(100):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(beta)
        loss = (beta/2-1)**2
    beta.assign_sub(tape.gradient(loss,beta)*alpha)
    beta_lst.append(beta.numpy())
    loss_lst.append((beta.numpy()/2-1)**2)
fig = plt.figure(); ax = fig.add_subplot()
ax.plot(_beta,(_beta/2-1)**2)
pnts, = ax.plot(beta_lst[0],loss_lst[0],'or')
def animate(i):
    pnts.set_xdata(beta_lst[:(i+1)])
    pnts.set_ydata(loss_lst[:(i+1)])
ani = animation.FuncAnimation(fig,animate,frames=100)
""",
        "code": """
import gdlab

loss = lambda b: (b / 2 - 1) ** 2
path = gdlab.descend(loss, $start, lr=$lr, steps=$steps, dtype="float32")
print(path.params[-1], path.regime)  # lecture, after 100 steps: -9.040152
gdlab.animate(gdlab.descend(loss, $start, lr=$lr, steps=$steps), frames=40)  # drawn from float64
""",
    },
    {
        "key": "rate",
        "title": ("The learning rate past 2/L", "2/L을 넘는 학습률"),
        "prose": (
            "Raise α and the steps grow. The slope of (β/2 − 1)² changes by L = 1/2 per unit of β "
            "(−6 at −10, −3 at −4), so α = 2 lands on 2 in one step, α between 2 and 4 overshoots and "
            "jumps back and forth, α = 2/L = 4 bounces forever between −10 and 14, and α above 4 runs away.",
            "α를 키우면 걸음이 커집니다. (β/2 − 1)²의 기울기는 β가 1 늘 때 L = 1/2씩 변합니다(−10에서 −6, "
            "−4에서 −3). 그래서 α = 2이면 한 번에 2에 닿고, 2와 4 사이면 넘어갔다 돌아오기를 반복하며, "
            "α = 2/L = 4이면 −10과 14 사이를 끝없이 오가고, 4보다 크면 발산합니다.",
        ),
        "rows": [
            ("slope at −10", "−10에서 기울기", "-6.0"),
            ("slope at −4", "−4에서 기울기", "-3"),
            ("2/L", "2/L", None),
            ("what the run did", "실행 결과", None),
            ("β after the last step", "마지막 걸음 뒤 β", None),
        ],
        "controls": [
            ("start", "start β", "시작 β", "-10", -20, 20, False),
            ("lr", "learning rate α", "학습률 α", "4.5", 1e-6, 10, False),
            ("steps", "steps", "걸음 수", "20", 1, 200, True),
        ],
        "task": (
            "Find a rate that oscillates: β jumps across 2 at every step, yet does not run away.",
            "진동하는 학습률을 찾아보세요: β가 매 걸음 2를 건너뛰지만 멀어지지는 않아야 합니다.",
        ),
        "hint": (
            "Past 2/L = 4 it runs away; below 2 it never crosses. Try a rate between 2 and 4.",
            "2/L = 4를 넘으면 발산하고, 2보다 작으면 2를 건너뛰지 않습니다. 2와 4 사이를 넣어 보세요.",
        ),
        "note": (
            "The lecture printed the slopes (−6.0 from TensorFlow, −3 in the text); gdlab computes them "
            "in float64. 2/L is theory, which gdlab computes from the Hessian.",
            "강의는 기울기를 출력했습니다(TensorFlow의 −6.0, 본문의 −3). gdlab은 float64로 계산합니다. "
            "2/L은 이론값으로, gdlab이 헤시안으로 계산합니다.",
        ),
        "tf_code": """
beta = tf.Variable(-10.0)
with tf.GradientTape(persistent=True) as tape:
    loss = (beta/2-1)**2
tape.gradient(loss,beta)    # -6.0
# beta = -4: the slope is -3
""",
        "code": """
import gdlab

loss = lambda b: (b / 2 - 1) ** 2
print(gdlab.grad(loss)(-10.0), gdlab.grad(loss)(-4.0))  # lecture: -6.0 and -3
print(gdlab.stability(loss, 2.0).critical_lr)  # 2/L = 4
path = gdlab.descend(loss, $start, lr=$lr, steps=$steps)
print(path.regime, path.params[:6])
""",
    },
    {
        "key": "homework",
        "title": ("Homework: SGD on (x − 1)²", "과제: (x − 1)²에 확률적 경사하강법"),
        "prose": (
            "The homework: minimise (x − 1)² from x = −3 with α = 0.01/3, and animate it. To make it "
            "stochastic, write (x − 1)² as the mean of (x − z)² over 20 samples z whose mean is 1 (plus a "
            "constant that does not move the minimum). Each step uses a batch of samples: with all 20 it "
            "is the homework's gradient descent; with fewer, each step is noisy. An epoch is one pass "
            "over the 20 samples.",
            "과제: x = −3에서 α = 0.01/3로 (x − 1)²을 "
            "최소화하고 애니메이션으로 보이기. 확률적으로 만들기 위해 "
            "(x − 1)²을 평균이 1인 샘플 z 20개에 대한 (x − z)²의 평균으로 씁니다(최솟값 위치를 바꾸지 않는 "
            "상수가 더해질 뿐입니다). 한 걸음마다 샘플 몇 개(배치)만 씁니다: 20개를 모두 쓰면 과제의 "
            "경사하강법이고, 적게 쓰면 걸음마다 흔들립니다. 에폭은 20개 샘플을 한 번씩 모두 도는 것입니다.",
        ),
        "rows": [
            ("x after the homework's 100 steps", "과제의 100번 뒤 x", None),
            ("1 − 4(1 − 2α)¹⁰⁰ (theory)", "1 − 4(1 − 2α)¹⁰⁰ (이론)", None),
            ("SGD: x after the last step", "SGD: 마지막 걸음 뒤 x", None),
        ],
        "controls": [
            ("lr", "learning rate α", "학습률 α", "0.01/3", 1e-5, 1, False),
            ("batch", "batch size (divides 20)", "배치 크기 (20의 약수)", "20", 1, 20, True),
            (
                "epochs",
                "epochs",
                "에폭",
                "100",
                1,
                200,
                True,
            ),
        ],
        "task": (
            "Make SGD converge with batch size 1: every step of the last epoch within 0.1 of 1.",
            "배치 크기 1로 SGD를 수렴시켜 보세요: 마지막 에폭의 모든 걸음이 1과 0.1 이내.",
        ),
        "hint": (
            "Batch size 1 takes 20 steps per epoch. If it jitters, "
            "lower α; if it has not arrived, add epochs.",
            "배치 크기 1이면 에폭마다 20걸음입니다. 흔들리면 α를 "
            "줄이고, 아직 도착하지 못했으면 에폭을 늘리세요.",
        ),
        "note": (
            "The lecture printed no number for the homework; the first two rows are float64 and agree "
            "with the theory to the last digit shown.",
            "강의는 과제의 값을 출력하지 않았습니다. 위의 두 값은 "
            "float64이며 표시된 자리까지 이론값과 같습니다.",
        ),
        "animate": True,
        "tf_code": """
beta = tf.Variable(-3.0)
alpha = 0.01/3
beta_lst=[beta.numpy()]
loss_lst=[(beta.numpy()-1)**2]
for k in range(100):
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(beta)
        loss = (beta-1)**2
    beta.assign_sub(tape.gradient(loss, beta)*alpha)
    beta_lst.append(beta.numpy())
    loss_lst.append((beta.numpy()-1)**2)
""",
        "code": """
import numpy as np
import jax.numpy as jnp
import gdlab

print(gdlab.descend(lambda x: (x - 1) ** 2, -3.0, lr=0.01 / 3, steps=100).final)  # the homework
noise = np.random.default_rng(43052).normal(size=20)
z = 1 + 0.5 * (noise - noise.mean())  # mean exactly 1: mean((x - z)^2) = (x - 1)^2 + a constant
batch_loss = lambda x, batch: jnp.mean((x - batch) ** 2)
path = gdlab.sgd(batch_loss, -3.0, z, lr=$lr, batch_size=$batch, epochs=$epochs, seed=0)
print(path.final)
gdlab.animate(path, frames=40)
""",
    },
]

"""Every word the pictures draw, in English and Korean: one table for the descents', the fits',
the sweeps' and the phase diagrams' pictures (the Korean words for how a run ended and for each
regime are the lab page's, ``web/static/i18n.js``)."""

from __future__ import annotations

__all__ = ["FIT_WORDS", "SWEEP_WORDS", "WORDS"]

# A descent's picture's axis words.
WORDS = {
    "en": {
        "loss": "loss",
        "step": "step",
        "slope": "slope",
        "iteration": "iteration",
        "off": "off the chart",
    },
    "ko": {"loss": "손실", "step": "단계", "slope": "기울기", "iteration": "단계", "off": "차트 밖"},
}


# A fit's picture's words (WORDS above, which these
# extend; the Korean status words are the lab page's).
FIT_WORDS = {
    "en": {
        "data": "data",
        "sample": "data (a sample of {shown:,} of {rows:,} rows)",
        "fitted": "fitted",
        "fitted probability": "fitted probability",
        "fitted as": "fitted ({method})",
        "at the step": "{method}, at the step shown",
        "observed": "observed {y}",
        "equal": "observed = fitted",
        "residuals": "residuals",
        "residual rows": ", {shown:,} of {rows:,} rows",
        "minus": "{y} − fitted",
        "symlog": "symlog scale, linear within ±{small}",
        "below": "{method}'s curve is below the chart ({span})",
        "above": "{method}'s curve is above the chart ({span})",
        "at": "at {lo}",
        "between": "{lo} to {hi}",
        "closed": "solved in closed form by least squares",
        "standardised": " on standardised regressors",
        "raw": " on the raw columns",
        "closed form": "closed form",
        "sum of squares": "sum of squares",
        "mean squared residual": "mean squared residual",
        "mean log-loss": "mean log-loss",
        "half the mean deviance": "half the mean deviance",
        "more": " … ({n} more)",
    },
    "ko": {
        "data": "데이터",
        "sample": "데이터 ({rows:,}행 중 {shown:,}행 표본)",
        "fitted": "적합값",
        "fitted probability": "적합 확률",
        "fitted as": "적합 ({method})",
        "at the step": "{method}, 현재 단계",
        "observed": "관측 {y}",
        "equal": "관측값 = 적합값",
        "residuals": "잔차",
        "residual rows": ", {rows:,}행 중 {shown:,}행",
        "minus": "{y} − 적합값",
        "symlog": "symlog 척도, ±{small} 안은 선형",
        "below": "{method}의 곡선은 차트 아래에 있음 ({span})",
        "above": "{method}의 곡선은 차트 위에 있음 ({span})",
        "at": "{lo}",
        "between": "{lo} ~ {hi}",
        "closed": "최소제곱 해 (닫힌 형태로 풂)",
        "standardised": " (표준화한 회귀변수에서)",
        "raw": " (원래 열에서)",
        "closed form": "최소제곱 해",
        "sum of squares": "잔차 제곱합",
        "mean squared residual": "평균 제곱 잔차",
        "mean log-loss": "평균 로그 손실",
        "half the mean deviance": "평균 이탈도의 절반",
        "more": " … (그 밖에 {n}개)",
    },
}

# A sweep's and a phase diagram's words, and each regime's name.
SWEEP_WORDS = {
    "en": {
        "converged": "converged",
        "slow": "slow",
        "oscillating": "oscillating",
        "diverged": "diverged",
        "stalled": "stalled",
        "learning rate": "learning rate",
        "final loss": "final loss",
        "start": "{label}, start {s}",
        "zero": "0 exactly (on the floor)",
        "steps to converge": "steps to converge",
        "final gradient norm": "final gradient norm",
        "none met": "no run met tol before step {steps:,}; {count} stopped early ({kinds})",
        "none stopped": "no run stopped before step {steps:,}",
        "give tol": " (give tol to stop at convergence)",
        "title": "{method}: {runs} runs of {steps:,} steps",
        "plain bound": " (plain descent's bound)",
        "phase title": "{method}: {rows} rates x {cols} {setting} values, {steps:,} steps",
        "theory": "theory: lr = {which}",
        "fastest": "fastest: lr={lr}, {setting}={b}",
    },
    "ko": {
        "converged": "수렴",
        "slow": "느림",
        "oscillating": "진동",
        "diverged": "발산",
        "stalled": "정체",
        "learning rate": "학습률",
        "final loss": "최종 손실",
        "start": "{label}, 시작점 {s}",
        "zero": "정확히 0 (바닥에 표시)",
        "steps to converge": "수렴까지 단계",
        "final gradient norm": "최종 기울기 크기",
        "none met": "{steps:,}단계 전에 tol을 만족한 실행 없음; {count}개는 일찍 멈춤 ({kinds})",
        "none stopped": "{steps:,}단계 전에 멈춘 실행 없음",
        "give tol": " (수렴에서 멈추려면 tol을 주세요)",
        "title": "{method}: {steps:,}단계 실행 {runs}개",
        "plain bound": " (보통 경사 하강의 한계)",
        "phase title": "{method}: 학습률 {rows}개 x {setting} {cols}개, {steps:,}단계",
        "theory": "이론: lr = {which}",
        "fastest": "가장 빠름: lr={lr}, {setting}={b}",
    },
}

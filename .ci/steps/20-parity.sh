# step: parity tests against the oracles: torch (CPU build) and Keras 3 on the torch backend
# torch is pinned: a bare "torch" could pull a multi-GB CUDA build.
pip install torch==2.13.0 keras
KERAS_BACKEND=torch python -c "import torch, keras; print('torch', torch.__version__, '| keras', keras.__version__, keras.backend.backend())"
rc=0
KERAS_BACKEND=torch python -m pytest -m "torch or keras" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "(no parity tests collected)"
elif [ "$rc" -ne 0 ]; then
    exit "$rc"
fi

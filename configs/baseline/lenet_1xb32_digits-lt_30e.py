# Plain softmax cross-entropy, LeNet-5 on Digits-LT (CPU, about a minute): the baseline of the Digits-LT smoke
# configs of every method. python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = ['../_base_/models/lenet_digits_lt.py', '../_base_/datasets/digits_lt.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)

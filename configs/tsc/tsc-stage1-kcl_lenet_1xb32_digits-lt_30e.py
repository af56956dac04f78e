# TSC phase 1 on Digits-LT (CPU demo): the TSC repository's KCL on ../kcl/kcl_lenet_1xb32_digits-lt_30e.py's demo
# setting (LeNet-5, queue 192, key momentum 0.99, the demo schedule), with the TSC repository's MLP projection
# (120 -> 120 -> ReLU -> 128, no BatchNorm), random positives and weight decay 1e-4.
# Then ./tsc_lenet_1xb32_digits-lt_30e.py from its last checkpoint. python tools/train.py THIS_CONFIG
_base_ = '../kcl/kcl_lenet_1xb32_digits-lt_30e.py'
model = dict(
    neck=dict(_delete_=True, type='MoCoV2Neck', in_channels=120, hid_channels=120, out_channels=128,
              with_avg_pool=False),
    contrast_loss=dict(sampling='random'))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
custom_hooks = []  # the TSC repository's trainer has no init_key_queue: the queue starts empty

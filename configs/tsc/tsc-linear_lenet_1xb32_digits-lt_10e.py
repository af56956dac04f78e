# TSC stage 2 on Digits-LT (CPU demo), the linear probe: the TSC LeNet-5 loaded and frozen, a new linear classifier
# (N(0, 0.01)) trained with softmax cross-entropy and class-aware sampling (4 images per class visit) as
# main_lincls_imba.py, its step schedule scaled to 10 epochs (lr x0.1 at epochs 5 and 8), the demo's lr 0.05 and
# batch 32, no weight decay. LeNet-5 has no BatchNorm (the official probe keeps BatchNorm in train mode).
# python tools/train.py ./tsc_lenet_1xb32_digits-lt_30e.py; python tools/train.py THIS_CONFIG
_base_ = '../kcl/kcl-linear_lenet_1xb32_digits-lt_10e.py'
load_from = 'work_dirs/tsc_lenet_1xb32_digits-lt_30e/epoch_30.pth'
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4, num_samples='dataset'), drop_last=True)
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=True)]
param_scheduler = dict(milestones=[5, 8])

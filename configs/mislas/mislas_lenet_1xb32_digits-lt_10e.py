# MiSLAS stage 2 on Digits-LT (CPU demo): the stage-1 mixup LeNet-5 is loaded and frozen (it has no BatchNorm, so
# the BN shift does nothing here); its classifier and per-class weight scales are trained with label-aware smoothing
# and class-aware sampling for 10 epochs, SGD lr 0.05 (classifier x 0.2), cosine to 0. Ten classes, imbalance factor
# 40: the smoothing and lr_factor of the official CIFAR-10-LT IF 50 config (cifar10_imb002_stage2_mislas.yaml:
# eps_head 0.2, eps_tail 0.0, lr_factor 0.2).
# python tools/train.py ./stage1-mixup_lenet_1xb32_digits-lt_30e.py; python tools/train.py THIS_CONFIG
_base_ = ['./stage1-mixup_lenet_1xb32_digits-lt_30e.py', './_base_/mislas_stage2.py']
load_from = 'work_dirs/stage1-mixup_lenet_1xb32_digits-lt_30e/epoch_30.pth'
model = dict(
    train_cfg=None,  # no mixup in stage 2
    head=dict(type='LWSClsHead', train_fc=True,
              loss=dict(_delete_=True, type='LabelAwareSmoothingLoss', class_stats={{_base_.class_stats}},
                        smooth_head=0.2, smooth_tail=0.0, shape='concave')))
# ceil(N / batch) + 1 full class-aware batches per epoch, as the official loop: (ceil(347 / 32) + 1) x 32
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4, num_samples=384))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head.fc': dict(lr_mult=0.2)}))
max_epochs = 10
param_scheduler = dict(T_max=max_epochs, eta_min=0.0, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)

# ResLT (Cui et al., TPAMI 2022): a 1x1 convolution (2048 -> 3 x 2048, BatchNorm, ReLU) on the last ResNeXt-50 map,
# cut into three residual branches, one shared fc, the logits summed; the main branch trained on every class, the
# second on the 825 least frequent (medium+tail), the third on the 220 least frequent (tail), the sum on every
# class: beta * L_ice + (1 - beta) * L_fce, beta 0.99. At test the 1x1 block follows the pooling and the class
# vectors are divided by |w|^0.7, bias dropped (the official eval path).
# ResNeXt-50 (32x4d) on ImageNet-LT, the official run (jiequancui/ResLT ImageNetLT/sh/X50.sh,
# ImageNetTrain_reslt.py): a total batch of 256 (DataParallel), drop_last, SGD lr 0.1 momentum 0.9, wd 5e-4, 180
# epochs, lr (e + 1) / 5 over the first 5 epochs then a cosine to 0, per epoch. tools/dist_train.sh THIS_CONFIG 4
_base_ = '../baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py'
model = dict(
    backbone=dict(zero_init_residual=False),  # the official torchvision-style ResNeXt
    neck=None,  # the head pools its own branches
    head=dict(_delete_=True, type='ResLTHead', num_classes=1000, in_channels=2048, expand='conv1x1',
              after_1x1conv=True, test_gamma=0.7,
              loss=dict(type='ResLTLoss', class_stats={{_base_.class_stats}}, num_medium_tail=825, num_tail=220,
                        beta=0.99, fused_eps=1e-7)))
max_epochs = 180
train_dataloader = dict(drop_last=True)
optim_wrapper = dict(optimizer=dict(lr=0.1))
# The official adjust_learning_rate, set at each epoch start: lr (e + 1) / 5 for e < 5, then
# 0.5 lr (1 + cos(pi (e - 4) / (E - 4))): the cosine starts at epoch 4 (factor 1) and never reaches 0.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 4, eta_min=0.0, by_epoch=True, begin=4, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)

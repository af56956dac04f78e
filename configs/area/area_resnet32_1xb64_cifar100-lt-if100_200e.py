# AREA (Chen et al., ICCV 2023): cross-entropy, then from epoch 160 weighted by the inverse effective area of each
# class, recomputed before every epoch from two passes over the training set (AREAHook).
# ResNet-32 on CIFAR-100-LT IF100, the official AREA_cifar.py recipe: one GPU x 64 (--batch-size 64, every command of
# the official README), SGD lr 0.1, momentum 0.9, wd 5e-4, 200 epochs, lr x(e + 1)/5 over epochs 0-4, x0.01 from
# epoch 160 and again from 180 (the configs/baseline schedule with the official weight decay).
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='AREALoss', class_stats={{_base_.class_stats}}, start_epoch=160)))
custom_hooks = [dict(type='AREAHook')]  # the epoch, and the effective areas of the re-weighted epochs
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
auto_scale_lr = dict(base_batch_size=64)

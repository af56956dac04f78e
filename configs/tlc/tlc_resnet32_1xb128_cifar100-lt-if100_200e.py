# TLC (Li et al., "Trustworthy Long-Tailed Classification", CVPR 2022), 3 evidential experts, ResNet-32 on
# CIFAR-100-LT (imbalance factor 100), 200 epochs: the official CIFAR-100 recipe (lblaoke/TLC configs/cifar100_lt.json,
# main.py, data_loader/cifar_data_loaders.py): one GPU x 128, SGD nesterov lr 0.1, weight decay 5e-4, linear warm-up
# 5 epochs, x0.01 at 160 and 180; TLCLoss with DRW from epoch 160 (reweight_factor 0.05, KL period T = 13,200),
# RandomRotation(15) after crop and flip; evaluation in batches of 4096 (the official split_validation), since the
# fused prediction depends on its batch. The data is the shared Cao CIFAR-100-LT split, not TLC's own (see README).
# python tools/train.py THIS_CONFIG
_base_ = ['./_base_/tlc_resnet32.py', '../_base_/datasets/cifar100_lt_rotation.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}},
                       loss=dict(class_stats={{_base_.class_stats}}, drw=dict(start_epoch=160, beta=0.9999))))
optim_wrapper = dict(optimizer=dict(nesterov=True, weight_decay=5e-4))
val_dataloader = dict(batch_size=4096)
test_dataloader = val_dataloader

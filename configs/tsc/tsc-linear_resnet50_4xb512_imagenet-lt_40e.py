# TSC stage 2, the linear probe (LTH14/targeted-supcon main_lincls_imba.py, README: -b 2048 --epochs 40 --schedule 20
# 30): the TSC ResNet-50 is loaded and frozen, but its BatchNorm layers stay in train mode (the official script calls
# model.train(), so their statistics adapt); a new linear classifier (N(0, 0.01), bias 0) is trained with softmax
# cross-entropy and class-aware sampling (4 images per class visit; an epoch is N_train / 2048 iterations), SGD lr 10,
# momentum 0.9, no weight decay, batch 2048 (4 GPUs x 512), 40 epochs, lr x0.1 at epochs 20 and 30;
# RandomResizedCrop 224 + flip + ColorJitter(0.4, 0.4, 0.4).
# Train ./tsc_resnet50_4xb64_imagenet-lt_200e.py first, then tools/dist_train.sh THIS_CONFIG 4
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py', '../_base_/default_runtime_cls.py']
load_from = 'work_dirs/tsc_resnet50_4xb64_imagenet-lt_200e/epoch_200.pth'
model = dict(head=dict(init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.0)))
train_dataloader = dict(
    batch_size=512,  # x 4 GPUs = 2048
    sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4, num_samples='dataset'), drop_last=True)
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=True)]
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
max_epochs = 40
optim_wrapper = dict(optimizer=dict(type='SGD', lr=10.0, momentum=0.9, weight_decay=0.0))
param_scheduler = dict(type='MultiStepLR', milestones=[20, 30], gamma=0.1, by_epoch=True)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=2048)
